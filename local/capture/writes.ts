/** Which requests the replayer takes, and what it sends the target for them. */

/**
 * APIs that read, or hold a search context, but change no document: never replayed. A POST to one of them is
 * a read (`_search`, `_mget`, ...); DELETE `/_search/scroll` frees a context the target never had.
 */
const NOT_WRITES = new Set([
  '_search',
  '_msearch',
  '_count',
  '_mget',
  '_field_caps',
  '_validate',
  '_explain',
  '_pit',
  '_refresh',
  '_flush',
  '_cat',
  '_nodes',
  '_stats',
  '_analyze',
  '_search_shards',
  '_termvectors',
  '_mtermvectors',
  '_rank_eval',
  '_render',
  '_msearch_template',
  '_search_template',
]);

/** Whether a request changes documents or indices, so the replayer must apply it to the target too. */
export function isDocumentWrite(method: string, path: string): boolean {
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD' || upper === 'OPTIONS') return false;
  const segments = (path.split('?')[0] ?? '').split('/').filter(Boolean);
  return !segments.some((segment) => NOT_WRITES.has(segment));
}

/**
 * A write the source gave an id to (`POST /<index>/_doc`, a `_bulk` index or create without `_id`) is replayed
 * with that id: the replayer's job is to make the target hold the source's documents, and a second generated
 * id would make every such document differ by construction.
 */
export function pinGeneratedIds(
  write: { method: string; path: string; body: Buffer },
  answer: Buffer,
): { method: string; path: string; body: Buffer } {
  const [pathname, query] = write.path.split('?');
  const segments = (pathname ?? '').split('/').filter(Boolean);
  try {
    if (write.method === 'POST' && segments.length === 2 && segments[1] === '_doc') {
      const id = (JSON.parse(answer.toString('utf8')) as { _id?: unknown })._id;
      if (typeof id !== 'string') return write;
      const path = `/${segments[0]}/_doc/${encodeURIComponent(id)}${query !== undefined ? `?${query}` : ''}`;
      return { method: 'PUT', path, body: write.body };
    }
    if (segments.at(-1) === '_bulk') {
      const items = (JSON.parse(answer.toString('utf8')) as { items?: Record<string, { _id?: unknown }>[] })
        .items;
      if (!Array.isArray(items)) return write;
      const lines = write.body.toString('utf8').split('\n');
      let item = 0;
      let changed = false;
      for (let at = 0; at < lines.length; at += 1) {
        const line = lines[at]!;
        if (line.trim() === '') continue;
        const action = JSON.parse(line) as Record<string, Record<string, unknown>>;
        const [operation, meta = {}] = Object.entries(action)[0] ?? [];
        const given = Object.values(items[item] ?? {})[0]?._id;
        if (
          (operation === 'index' || operation === 'create') &&
          meta._id === undefined &&
          typeof given === 'string'
        ) {
          lines[at] = JSON.stringify({ [operation]: { ...meta, _id: given } });
          changed = true;
        }
        item += 1;
        // Every action but delete is followed by its document line.
        if (operation !== 'delete') at += 1;
      }
      return changed ? { ...write, body: Buffer.from(lines.join('\n')) } : write;
    }
  } catch {
    // Not JSON: replayed as sent.
  }
  return write;
}
