import { randomUUID } from 'node:crypto';

/** A document's body, as a client sent it. */
export type DocumentSource = Record<string, unknown>;

export interface StoredDocument {
  readonly source: DocumentSource;
  /** 1 when created, +1 on each change, as OpenSearch's `_version`. */
  readonly version: number;
  /** The index's sequence number of the document's last change, as `_seq_no`. */
  readonly seqNo: number;
}

export type WriteOperation = 'index' | 'create' | 'update' | 'delete';

/** One change a cluster applied to a document, in the order it applied them. */
export interface DocumentWrite {
  /** When the cluster applied it, ms since the epoch. */
  readonly at: number;
  readonly index: string;
  readonly id: string;
  readonly operation: WriteOperation;
  /** True when the replayer sent it (header `x-swing-replay`); false for a write a client sent to this cluster. */
  readonly replayed: boolean;
}

/** An answer in OpenSearch's shape: the status and the JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** OpenSearch's error body: `{ error: { root_cause: [...], type, reason, ... }, status }`. */
export function errorAnswer(
  status: number,
  type: string,
  reason: string,
  details: Record<string, unknown> = {},
): Answer {
  const cause = { type, reason, ...details };
  return { status, body: { error: { root_cause: [cause], ...cause }, status } };
}

export function indexNotFound(index: string): Answer {
  return errorAnswer(404, 'index_not_found_exception', `no such index [${index}]`, {
    index,
    'resource.id': index,
    'resource.type': 'index_or_alias',
    index_uuid: '_na_',
  });
}

/** A query this stand-in does not evaluate: answered 400 as OpenSearch answers a query it cannot parse. */
export class UnsupportedQuery extends Error {
  override readonly name = 'UnsupportedQuery';
}

const SHARDS = { total: 2, successful: 1, failed: 0 };

function fieldValue(source: DocumentSource, field: string): unknown {
  let value: unknown = source;
  for (const part of field.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function values(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function sameValue(stored: unknown, asked: unknown): boolean {
  return values(stored).some((one) => one === asked || (one !== undefined && String(one) === String(asked)));
}

const tokens = (text: string) => text.toLowerCase().split(/\W+/).filter(Boolean);

/** `{ field: value }` or `{ field: { value | query: value } }`: the field and the value asked for. */
function fieldAndValue(clause: unknown, key: 'value' | 'query'): [string, unknown] {
  const [field, asked] = Object.entries((clause ?? {}) as Record<string, unknown>)[0] ?? [];
  if (field === undefined) throw new UnsupportedQuery('a term or match query needs a field');
  const value =
    asked !== null && typeof asked === 'object' && !Array.isArray(asked) ? asked[key as never] : asked;
  return [field, value];
}

/**
 * Whether a document matches a query. Enough of the query DSL for what clients send to test a migration:
 * match_all, match_none, ids, term, terms, match, exists, range and bool; anything else is refused.
 */
export function matchesQuery(query: unknown, id: string, source: DocumentSource): boolean {
  if (query === undefined || query === null) return true;
  const [type, clause] = Object.entries(query as Record<string, unknown>)[0] ?? ['match_all', {}];
  const field = (name: string) => (name === '_id' ? id : fieldValue(source, name));
  switch (type) {
    case 'match_all':
      return true;
    case 'match_none':
      return false;
    case 'ids':
      return values((clause as { values?: unknown })?.values ?? []).some((value) => String(value) === id);
    case 'term': {
      const [name, value] = fieldAndValue(clause, 'value');
      return sameValue(field(name), value);
    }
    case 'terms': {
      const [name, asked] = fieldAndValue(clause, 'value');
      return values(asked).some((value) => sameValue(field(name), value));
    }
    case 'match': {
      const [name, value] = fieldAndValue(clause, 'query');
      const stored = field(name);
      if (typeof value !== 'string') return sameValue(stored, value);
      const wanted = tokens(value);
      return values(stored).some(
        (one) => typeof one === 'string' && tokens(one).some((token) => wanted.includes(token)),
      );
    }
    case 'exists':
      return field(String((clause as { field?: unknown })?.field)) !== undefined;
    case 'range': {
      const [name, bounds] =
        Object.entries((clause ?? {}) as Record<string, Record<string, number | string>>)[0] ?? [];
      if (name === undefined || !bounds) throw new UnsupportedQuery('a range query needs a field');
      return values(field(name)).some((one) => {
        if (typeof one !== 'number' && typeof one !== 'string') return false;
        return (
          (bounds.gte === undefined || one >= bounds.gte) &&
          (bounds.gt === undefined || one > bounds.gt) &&
          (bounds.lte === undefined || one <= bounds.lte) &&
          (bounds.lt === undefined || one < bounds.lt)
        );
      });
    }
    case 'bool': {
      const bool = (clause ?? {}) as Record<string, unknown>;
      const all = (key: string) => values(bool[key] ?? []).filter((one) => one !== undefined);
      const must = [...all('must'), ...all('filter')];
      const should = all('should');
      return (
        must.every((one) => matchesQuery(one, id, source)) &&
        !all('must_not').some((one) => matchesQuery(one, id, source)) &&
        (should.length === 0 || must.length > 0 || should.some((one) => matchesQuery(one, id, source)))
      );
    }
    default:
      throw new UnsupportedQuery(`unknown query [${type}]`);
  }
}

export interface Hit {
  readonly _index: string;
  readonly _id: string;
  readonly _score: number;
  readonly _source: DocumentSource;
}

/**
 * The indices of one cluster: documents with versions and sequence numbers, and the log of every change with
 * when it happened and whether the replayer sent it. Pure: the HTTP stand-in maps requests onto it.
 */
export class IndexStore {
  private readonly indices = new Map<string, { documents: Map<string, StoredDocument>; seqNo: number }>();
  private readonly log: DocumentWrite[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Loads documents as if they had always been there (a backfill): no write is logged. */
  seed(documents: Readonly<Record<string, Readonly<Record<string, DocumentSource>>>>): void {
    for (const [index, byId] of Object.entries(documents)) {
      const stored = this.createIndex(index);
      for (const [id, source] of Object.entries(byId)) {
        stored.seqNo += 1;
        stored.documents.set(id, { source: structuredClone(source), version: 1, seqNo: stored.seqNo });
      }
    }
  }

  has(index: string): boolean {
    return this.indices.has(index);
  }

  names(): string[] {
    return [...this.indices.keys()];
  }

  createIndex(index: string) {
    let stored = this.indices.get(index);
    if (!stored) {
      stored = { documents: new Map(), seqNo: -1 };
      this.indices.set(index, stored);
    }
    return stored;
  }

  deleteIndex(index: string): boolean {
    return this.indices.delete(index);
  }

  document(index: string, id: string): StoredDocument | undefined {
    return this.indices.get(index)?.documents.get(id);
  }

  /** The documents of an index in the order they were first written. */
  documentsOf(index: string): [string, StoredDocument][] {
    return [...(this.indices.get(index)?.documents ?? [])];
  }

  count(): number {
    let sum = 0;
    for (const { documents } of this.indices.values()) sum += documents.size;
    return sum;
  }

  /** A copy of every document's source, by index and id. */
  snapshot(): Map<string, Map<string, DocumentSource>> {
    const copy = new Map<string, Map<string, DocumentSource>>();
    for (const [index, { documents }] of this.indices) {
      copy.set(index, new Map([...documents].map(([id, doc]) => [id, structuredClone(doc.source)])));
    }
    return copy;
  }

  writes(): DocumentWrite[] {
    return [...this.log];
  }

  /** Index (or, with `create`, only create) a document; an absent id is generated, as OpenSearch does. */
  put(
    index: string,
    id: string | undefined,
    source: DocumentSource,
    operation: 'index' | 'create',
    replayed: boolean,
  ): Answer {
    const docId = id ?? randomUUID().replaceAll('-', '').slice(0, 20);
    const existing = this.document(index, docId);
    if (existing && operation === 'create') return this.conflict(index, docId, 'document already exists');
    const stored = this.createIndex(index);
    stored.seqNo += 1;
    const version = (existing?.version ?? 0) + 1;
    stored.documents.set(docId, { source: structuredClone(source), version, seqNo: stored.seqNo });
    this.record(index, docId, operation, replayed);
    return {
      status: existing ? 200 : 201,
      body: this.writeResult(index, docId, version, stored.seqNo, existing ? 'updated' : 'created'),
    };
  }

  /** `_update`: merges `doc` into the document; `doc_as_upsert` or `upsert` create a missing one. */
  update(index: string, id: string, request: Record<string, unknown>, replayed: boolean): Answer {
    const doc = request.doc as DocumentSource | undefined;
    const upsert = (request.doc_as_upsert === true ? doc : request.upsert) as DocumentSource | undefined;
    if (doc === undefined && upsert === undefined) {
      return errorAnswer(
        400,
        'action_request_validation_exception',
        'Validation Failed: 1: script or doc is missing;',
      );
    }
    const existing = this.document(index, id);
    if (!existing) {
      if (upsert === undefined) {
        return this.has(index)
          ? errorAnswer(404, 'document_missing_exception', `[${id}]: document missing`, {
              index,
              shard: '0',
              index_uuid: 'stand-in',
            })
          : indexNotFound(index);
      }
      const created = this.put(index, id, upsert, 'index', replayed);
      return { status: 201, body: created.body };
    }
    const merged = mergeDeep(existing.source, doc ?? {});
    if (canonicalJson(merged) === canonicalJson(existing.source)) {
      return { status: 200, body: this.writeResult(index, id, existing.version, existing.seqNo, 'noop') };
    }
    const stored = this.createIndex(index);
    stored.seqNo += 1;
    const version = existing.version + 1;
    stored.documents.set(id, { source: merged, version, seqNo: stored.seqNo });
    this.record(index, id, 'update', replayed);
    return { status: 200, body: this.writeResult(index, id, version, stored.seqNo, 'updated') };
  }

  delete(index: string, id: string, replayed: boolean): Answer {
    const stored = this.indices.get(index);
    if (!stored) return indexNotFound(index);
    const existing = stored.documents.get(id);
    stored.seqNo += 1;
    if (!existing) {
      return { status: 404, body: this.writeResult(index, id, 1, stored.seqNo, 'not_found') };
    }
    stored.documents.delete(id);
    this.record(index, id, 'delete', replayed);
    return { status: 200, body: this.writeResult(index, id, existing.version + 1, stored.seqNo, 'deleted') };
  }

  /** GET `/<index>/_doc/<id>`: found, or 404 `found: false`; a missing index is `index_not_found_exception`. */
  get(index: string, id: string): Answer {
    if (!this.has(index)) return indexNotFound(index);
    const doc = this.document(index, id);
    if (!doc) return { status: 404, body: { _index: index, _id: id, found: false } };
    return {
      status: 200,
      body: {
        _index: index,
        _id: id,
        _version: doc.version,
        _seq_no: doc.seqNo,
        _primary_term: 1,
        found: true,
        _source: structuredClone(doc.source),
      },
    };
  }

  private conflict(index: string, id: string, why: string): Answer {
    const existing = this.document(index, id);
    return errorAnswer(409, 'version_conflict_engine_exception', `[${id}]: version conflict, ${why}`, {
      index,
      shard: '0',
      index_uuid: 'stand-in',
      ...(existing ? { current_version: existing.version } : {}),
    });
  }

  private writeResult(index: string, id: string, version: number, seqNo: number, result: string) {
    return {
      _index: index,
      _id: id,
      _version: version,
      result,
      _shards: SHARDS,
      _seq_no: seqNo,
      _primary_term: 1,
    };
  }

  private record(index: string, id: string, operation: WriteOperation, replayed: boolean): void {
    this.log.push({ at: this.now(), index, id, operation, replayed });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mergeDeep(base: DocumentSource, change: DocumentSource): DocumentSource {
  const merged: DocumentSource = structuredClone(base);
  for (const [key, value] of Object.entries(change)) {
    const current = merged[key];
    merged[key] =
      isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : structuredClone(value);
  }
  return merged;
}

/** JSON with object keys sorted, so two documents with the same contents compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
