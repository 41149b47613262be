import type { ClusterStandIn, DocumentWrite } from './clusters.ts';
import { canonicalJson } from './documents.ts';

export interface Divergence {
  /** Documents on the target and not on the source: writes the target took that the source never had. */
  readonly targetOnly: number;
  /** Documents on the source and not on the target: deleted on the target only, or not (yet) replayed. */
  readonly sourceOnly: number;
  /** Documents on both whose contents differ. */
  readonly different: number;
  /** Scroll continuations that reached a cluster that did not open the scroll, counted by the clusters. */
  readonly wrongClusterScrolls: number;
  /** Documents compared on each side. */
  readonly documents: { readonly source: number; readonly target: number };
  /** A few `index/id` of each kind, to look at. */
  readonly examples: {
    readonly targetOnly: string[];
    readonly sourceOnly: string[];
    readonly different: string[];
  };
}

export type MeasuredCluster = Pick<ClusterStandIn, 'documents' | 'stats'>;

/**
 * Compares the two clusters' own documents, index by index and id by id. Measure after the replayer drained,
 * or writes still in flight count as source-only. Never derived from what Swing believes it routed.
 */
export function measureDivergence(
  source: MeasuredCluster,
  target: MeasuredCluster,
  options: { examples?: number } = {},
): Divergence {
  const limit = options.examples ?? 5;
  const onSource = source.documents();
  const onTarget = target.documents();
  const found = { targetOnly: [] as string[], sourceOnly: [] as string[], different: [] as string[] };
  const counts = { targetOnly: 0, sourceOnly: 0, different: 0 };
  const note = (kind: keyof typeof counts, index: string, id: string) => {
    counts[kind] += 1;
    if (found[kind].length < limit) found[kind].push(`${index}/${id}`);
  };
  let sourceDocuments = 0;
  let targetDocuments = 0;
  for (const [index, documents] of onSource) {
    sourceDocuments += documents.size;
    const other = onTarget.get(index);
    for (const [id, body] of documents) {
      const copy = other?.get(id);
      if (copy === undefined) note('sourceOnly', index, id);
      else if (canonicalJson(copy) !== canonicalJson(body)) note('different', index, id);
    }
  }
  for (const [index, documents] of onTarget) {
    targetDocuments += documents.size;
    const other = onSource.get(index);
    for (const id of documents.keys()) if (!other?.has(id)) note('targetOnly', index, id);
  }
  return {
    ...counts,
    wrongClusterScrolls: source.stats().wrongClusterScrolls + target.stats().wrongClusterScrolls,
    documents: { source: sourceDocuments, target: targetDocuments },
    examples: found,
  };
}

/**
 * The writes clients sent straight to a cluster (not replayed onto it) in `[from, to)`, ms since the epoch.
 * On the target, these are the writes only the target has unless something copies them back: in reads-first,
 * none before the write cutover.
 */
export function directWrites(
  cluster: Pick<ClusterStandIn, 'writes'>,
  window: { from?: number; to?: number } = {},
): DocumentWrite[] {
  const { from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY } = window;
  return cluster.writes().filter((write) => !write.replayed && write.at >= from && write.at < to);
}
