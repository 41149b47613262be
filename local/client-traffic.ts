import type { DocumentSource } from './documents.ts';
import {
  type PlannedRequest,
  startTraffic,
  type Traffic,
  type TrafficCounts,
  type TrafficOptions,
} from './traffic.ts';

export type ReadOperation = 'get' | 'search' | 'msearch' | 'count' | 'mget' | 'scroll';
export type WriteOperation = 'index' | 'create' | 'bulk' | 'delete';

/** Relative weights of the operations, within the reads and within the writes; 0 leaves one out. */
export interface ClientMix {
  readonly reads?: Partial<Record<ReadOperation, number>>;
  readonly writes?: Partial<Record<WriteOperation, number>>;
}

export const DEFAULT_CLIENT_MIX = {
  reads: { get: 30, search: 25, msearch: 10, count: 10, mget: 10, scroll: 15 },
  writes: { index: 45, create: 10, bulk: 25, delete: 20 },
} as const satisfies ClientMix;

export interface ScrollTally {
  /** Scrolls opened (`?scroll=1m`) that returned a scroll id. */
  opened: number;
  /** Continuations sent (`/_search/scroll`) that some cluster answered. */
  continued: number;
  /** Continuations answered by another cluster than the one that opened the scroll. */
  wrongCluster: number;
  cleared: number;
  /** Clears answered by another cluster than the one that opened the scroll (the context stays open there). */
  clearedOnWrongCluster: number;
  /** Scrolls given up on because a continuation failed (a context missing, or a 5xx). */
  lost: number;
}

export interface ClientTrafficCounts extends TrafficCounts {
  operations: Record<string, { sent: number; ok: number; failed: number; notFound: number }>;
  scrolls: ScrollTally;
  /**
   * 404s that are not a missing document, index or scroll context: an API the cluster did not answer.
   * Against OpenSearch (or the stand-ins) it stays 0.
   */
  unknownApi: number;
}

export interface ClientTraffic extends Traffic {
  counts(): ClientTrafficCounts;
  stop(): Promise<ClientTrafficCounts>;
}

export interface ClientTrafficOptions extends Omit<TrafficOptions, 'requests'> {
  /** The ids `1..initialDocuments` exist already (see `seedDocuments`): reads hit them from the start. */
  readonly initialDocuments?: number;
  readonly mix?: ClientMix;
  /** Scrolls kept open at once. Default 4. */
  readonly maxOpenScrolls?: number;
}

const TAGS = ['red', 'green', 'blue'] as const;
const SCROLL_PAGE = 5;

function documentBody(n: number, revision: number): DocumentSource {
  return { n, title: `document ${n}`, tag: TAGS[n % TAGS.length], revision };
}

/**
 * The documents both clusters hold before the rollout (the backfill), with the ids the generator reads:
 * give the same to the source and the target stand-ins.
 */
export function seedDocuments(
  count: number,
  index = 'swing-demo',
): Record<string, Record<string, DocumentSource>> {
  return {
    [index]: Object.fromEntries(
      Array.from({ length: count }, (_, at) => [`${at + 1}`, documentBody(at + 1, 0)]),
    ),
  };
}

function pick<K extends string>(weights: Partial<Record<K, number>>, random: () => number): K | undefined {
  const entries = Object.entries(weights).filter(([, weight]) => Number(weight) > 0) as [K, number][];
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [key, weight] of entries) {
    roll -= weight;
    if (roll < 0) return key;
  }
  return entries.at(-1)?.[0];
}

function validMix(mix: Partial<Record<string, number>>, field: string): void {
  for (const [key, weight] of Object.entries(mix)) {
    if (!(Number(weight) >= 0 && Number.isFinite(Number(weight)))) {
      throw new RangeError(`${field}.${key} is ${weight}: give a relative weight >= 0`);
    }
  }
}

/** A 404 OpenSearch sends for a missing document, index or scroll context, not for an unknown API. */
function isMissingThing(text: string): boolean {
  try {
    const body = JSON.parse(text) as {
      found?: unknown;
      result?: unknown;
      num_freed?: unknown;
      error?: { type?: unknown; root_cause?: { type?: unknown }[] };
    };
    if (body.found === false || body.result === 'not_found' || body.num_freed === 0) return true;
    const types = [body.error?.type, ...(body.error?.root_cause ?? []).map((cause) => cause.type)];
    return types.some(
      (type) =>
        type === 'index_not_found_exception' ||
        type === 'search_context_missing_exception' ||
        type === 'document_missing_exception',
    );
  } catch {
    return false;
  }
}

interface OpenScroll {
  readonly id: string;
  readonly cluster: string;
  busy: boolean;
  exhausted: boolean;
  pages: number;
}

/**
 * Plays OpenSearch clients: GET by id, `_search` and `_msearch` by POST, `_count`, `_mget`, scroll (open with
 * `?scroll=1m`, continue with `/_search/scroll`, clear), `_bulk`, PUT and POST `_doc` (every other POST with an
 * id named like a read API, `_searchable-<n>`), DELETE by id, with
 * document ids from one id space so reads find what was written. Counts as `startTraffic` does, plus per
 * operation, per scroll (a continuation answered by another cluster than the one that opened the scroll is
 * counted `wrongCluster`), and 404s that no missing thing explains (`unknownApi`).
 */
export function startClientTraffic(options: ClientTrafficOptions): ClientTraffic {
  const {
    index = 'swing-demo',
    writeRatio = 0.2,
    random = Math.random,
    initialDocuments = 100,
    maxOpenScrolls = 4,
  } = options;
  const reads = { ...DEFAULT_CLIENT_MIX.reads, ...options.mix?.reads };
  const writes = { ...DEFAULT_CLIENT_MIX.writes, ...options.mix?.writes };
  validMix(reads, 'mix.reads');
  validMix(writes, 'mix.writes');
  let lastId = initialDocuments;
  let revision = 0;
  let creates = 0;
  const scrolls: ScrollTally = {
    opened: 0,
    continued: 0,
    wrongCluster: 0,
    cleared: 0,
    clearedOnWrongCluster: 0,
    lost: 0,
  };
  let unknownApi = 0;
  const open: OpenScroll[] = [];

  const anyId = () => `${1 + Math.floor(random() * Math.max(1, lastId))}`;
  const newId = () => `${++lastId}`;
  const writeId = () => (random() < 0.5 ? newId() : anyId());
  const body = (id: string) => documentBody(Number(id), ++revision);
  const tag = () => TAGS[Math.floor(random() * TAGS.length)];
  const searchBody = () => {
    const roll = random();
    if (roll < 0.4) return { query: { term: { tag: tag() } }, size: 10 };
    if (roll < 0.7) return { query: { ids: { values: [anyId(), anyId(), anyId()] } } };
    return { query: { match_all: {} }, size: 5 };
  };
  const json = (value: unknown) => JSON.stringify(value);
  const ndjson = (lines: unknown[]) => `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
  const counted =
    (then?: (answer: { status: number; cluster: string; body: string }) => void) =>
    (answer: { status: number; cluster: string; body: string }) => {
      if (answer.status === 404 && !isMissingThing(answer.body)) unknownApi += 1;
      then?.(answer);
    };

  const scrollRequest = (): PlannedRequest => {
    const ready = open.filter((scroll) => !scroll.busy);
    const scroll = ready[0];
    if (scroll && (open.length >= maxOpenScrolls || random() < 0.75)) {
      scroll.busy = true;
      if (scroll.exhausted || scroll.pages >= 4) {
        open.splice(open.indexOf(scroll), 1);
        return {
          method: 'DELETE',
          path: '/_search/scroll',
          body: json({ scroll_id: scroll.id }),
          operation: 'scroll-clear',
          onAnswer: counted(({ cluster }) => {
            if (cluster === 'unknown') return;
            scrolls.cleared += 1;
            if (cluster !== scroll.cluster) scrolls.clearedOnWrongCluster += 1;
          }),
        };
      }
      return {
        method: 'POST',
        path: '/_search/scroll',
        body: json({ scroll_id: scroll.id, scroll: '1m' }),
        operation: 'scroll-continue',
        onAnswer: counted(({ status, cluster, body: text }) => {
          scroll.busy = false;
          if (cluster !== 'unknown') {
            scrolls.continued += 1;
            if (cluster !== scroll.cluster) scrolls.wrongCluster += 1;
          }
          if (status === 200) {
            scroll.pages += 1;
            const hits = (JSON.parse(text) as { hits?: { hits?: unknown[] } }).hits?.hits ?? [];
            scroll.exhausted = hits.length < SCROLL_PAGE;
          } else {
            // The context is gone for this client (or the cluster failed): a client would start over.
            scrolls.lost += 1;
            open.splice(open.indexOf(scroll), 1);
          }
        }),
      };
    }
    if (open.length >= maxOpenScrolls) return readRequest('search');
    return {
      method: 'POST',
      path: `/${index}/_search?scroll=1m`,
      body: json({ size: SCROLL_PAGE, query: { match_all: {} } }),
      operation: 'scroll-open',
      onAnswer: counted(({ status, cluster, body: text }) => {
        if (status !== 200) return;
        const answer = JSON.parse(text) as { _scroll_id?: unknown; hits?: { hits?: unknown[] } };
        if (typeof answer._scroll_id !== 'string') return;
        scrolls.opened += 1;
        open.push({
          id: answer._scroll_id,
          cluster,
          busy: false,
          pages: 1,
          exhausted: (answer.hits?.hits?.length ?? 0) < SCROLL_PAGE,
        });
      }),
    };
  };

  const readRequest = (operation: ReadOperation): PlannedRequest => {
    switch (operation) {
      case 'get':
        return { method: 'GET', path: `/${index}/_doc/${anyId()}`, operation, onAnswer: counted() };
      case 'search':
        return {
          method: 'POST',
          path: `/${index}/_search`,
          body: json(searchBody()),
          operation,
          onAnswer: counted(),
        };
      case 'msearch':
        return {
          method: 'POST',
          path: '/_msearch',
          body: ndjson([{ index }, searchBody(), { index }, searchBody()]),
          contentType: 'application/x-ndjson',
          operation,
          onAnswer: counted(),
        };
      case 'count':
        return {
          method: 'POST',
          path: `/${index}/_count`,
          body: json({ query: { term: { tag: tag() } } }),
          operation,
          onAnswer: counted(),
        };
      case 'mget':
        return {
          method: 'POST',
          path: '/_mget',
          body: json({ docs: [anyId(), anyId(), anyId()].map((id) => ({ _index: index, _id: id })) }),
          operation,
          onAnswer: counted(),
        };
      case 'scroll':
        return scrollRequest();
    }
  };

  const writeRequest = (operation: WriteOperation): PlannedRequest => {
    switch (operation) {
      case 'index': {
        const id = writeId();
        return {
          method: 'PUT',
          path: `/${index}/_doc/${id}`,
          body: json(body(id)),
          operation,
          onAnswer: counted(),
        };
      }
      case 'create': {
        // Every other create names its id like a read API (`_searchable-2`), as a client may: a write all the
        // same, which no read rule may take (`*/_search*` once did).
        creates += 1;
        return creates % 2 === 0
          ? {
              method: 'POST',
              path: `/${index}/_doc/_searchable-${creates}`,
              body: json({ ...body('0'), n: null, title: 'id named like a read' }),
              operation,
              onAnswer: counted(),
            }
          : {
              method: 'POST',
              path: `/${index}/_doc`,
              body: json({ ...body('0'), n: null, title: 'auto id' }),
              operation,
              onAnswer: counted(),
            };
      }
      case 'delete':
        return { method: 'DELETE', path: `/${index}/_doc/${anyId()}`, operation, onAnswer: counted() };
      case 'bulk': {
        const lines: unknown[] = [];
        const actions = 2 + Math.floor(random() * 4);
        for (let at = 0; at < actions; at += 1) {
          const roll = random();
          if (roll < 0.6) {
            const id = writeId();
            lines.push({ index: { _index: index, _id: id } }, body(id));
          } else if (roll < 0.85) {
            const id = anyId();
            lines.push({ update: { _index: index, _id: id } }, { doc: { revision: ++revision } });
          } else lines.push({ delete: { _index: index, _id: anyId() } });
        }
        return {
          method: 'POST',
          path: '/_bulk',
          body: ndjson(lines),
          contentType: 'application/x-ndjson',
          operation,
          onAnswer: counted(),
        };
      }
    }
  };

  const next = (): PlannedRequest => {
    const write = random() < writeRatio;
    const operation = write ? pick(writes, random) : pick(reads, random);
    if (operation === undefined) return readRequest('get');
    return write ? writeRequest(operation as WriteOperation) : readRequest(operation as ReadOperation);
  };

  const traffic = startTraffic({ ...options, index, writeRatio, random, requests: next });
  const withFigures = (counts: TrafficCounts): ClientTrafficCounts => ({
    ...counts,
    operations: counts.operations ?? {},
    scrolls: { ...scrolls },
    unknownApi,
  });
  return {
    counts: () => withFigures(traffic.counts()),
    stop: async () => withFigures(await traffic.stop()),
  };
}
