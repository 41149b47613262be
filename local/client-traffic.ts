import { ClientState, documentBody } from './client/client.ts';
import { type Clients, READS, type ReadOperation, WRITES, type WriteOperation } from './client/operations.ts';
import { ClientScrolls, type ScrollTally } from './client/scrolls.ts';
import type { DocumentSource } from './documents.ts';
import {
  DEFAULT_WRITE_RETRY,
  type PlannedRequest,
  startTraffic,
  type Traffic,
  type TrafficCounts,
  type TrafficOptions,
  type WriteRetryTally,
} from './traffic.ts';

export type { ReadOperation, WriteOperation } from './client/operations.ts';
export type { ScrollTally } from './client/scrolls.ts';

/** Relative weights of the operations, within the reads and within the writes; 0 leaves one out. */
export interface ClientMix {
  readonly reads?: Partial<Record<ReadOperation, number>>;
  readonly writes?: Partial<Record<WriteOperation, number>>;
}

export const DEFAULT_CLIENT_MIX = {
  reads: { get: 30, search: 25, msearch: 10, count: 10, mget: 10, scroll: 15 },
  writes: { index: 45, create: 10, bulk: 25, delete: 20 },
} as const satisfies ClientMix;

export interface ClientTrafficCounts extends TrafficCounts {
  operations: Record<string, { sent: number; ok: number; failed: number; notFound: number }>;
  scrolls: ScrollTally;
  /**
   * 404s that are not a missing document, index or scroll context: an API the cluster did not answer.
   * Against OpenSearch (or the stand-ins) it stays 0.
   */
  unknownApi: number;
  /** The writes answered 503 and retried, as OpenSearch clients retry them; the ALB's own refusals counted. */
  writeRetries?: WriteRetryTally;
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

/**
 * Plays OpenSearch clients: GET by id, `_search` and `_msearch` by POST, `_count`, `_mget`, scroll (open with
 * `?scroll=1m`, continue with `/_search/scroll`, clear), `_bulk`, PUT and POST `_doc` (every other POST with an
 * id named like a read API, `_searchable-<n>`), DELETE by id, with
 * document ids from one id space so reads find what was written. Counts as `startTraffic` does, plus per
 * operation, per scroll (a continuation answered by another cluster than the one that opened the scroll is
 * counted `wrongCluster`), and 404s that no missing thing explains (`unknownApi`). The operations are a table
 * (`client/operations.ts`) over the clients' shared id space (`client/client.ts`) and open scrolls (`client/scrolls.ts`).
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
  const client = new ClientState(index, random, initialDocuments);
  const clients: Clients = { client, scrolls: new ClientScrolls(client, maxOpenScrolls) };

  const next = (): PlannedRequest => {
    const write = random() < writeRatio;
    const operation = write ? pick(writes, random) : pick(reads, random);
    if (operation === undefined) return READS.get(clients);
    return write ? WRITES[operation as WriteOperation](clients) : READS[operation as ReadOperation](clients);
  };

  const traffic = startTraffic({
    retryWrites: DEFAULT_WRITE_RETRY,
    ...options,
    index,
    writeRatio,
    random,
    requests: next,
  });
  const withFigures = (counts: TrafficCounts): ClientTrafficCounts => ({
    ...counts,
    operations: counts.operations ?? {},
    scrolls: { ...clients.scrolls.tally },
    unknownApi: client.unknownApi,
  });
  return {
    counts: () => withFigures(traffic.counts()),
    stop: async () => withFigures(await traffic.stop()),
  };
}
