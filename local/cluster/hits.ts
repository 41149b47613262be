import { type Answer, type Hit, type IndexStore, indexNotFound, matchesQuery } from '../documents.ts';

/** Reading the document store as searches do: the indices an expression names, the hits a query matches. */

export const SEARCH_SHARDS = { total: 1, successful: 1, skipped: 0, failed: 0 };

/** The indices an expression names (`a`, `a,b`, `logs-*`, `_all`); a missing concrete one is an error. */
export function resolveIndices(store: IndexStore, expression: string | undefined): string[] | Answer {
  if (expression === undefined || expression === '_all' || expression === '*') return store.names();
  const names = new Set<string>();
  for (const part of expression.split(',').filter(Boolean)) {
    if (part.includes('*')) {
      const pattern = new RegExp(`^${part.split('*').map(escapeRegExp).join('.*')}$`);
      for (const index of store.names()) if (pattern.test(index)) names.add(index);
    } else if (store.has(part)) names.add(part);
    else return indexNotFound(part);
  }
  return [...names];
}

export function matchingHits(store: IndexStore, indices: string[], query: unknown): Hit[] {
  const hits: Hit[] = [];
  for (const index of indices) {
    for (const [id, doc] of store.documentsOf(index)) {
      if (matchesQuery(query, id, doc.source)) {
        hits.push({ _index: index, _id: id, _score: 1, _source: structuredClone(doc.source) });
      }
    }
  }
  return hits;
}

export function searchBody(hits: Hit[], total: number, extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    took: 1,
    timed_out: false,
    _shards: SEARCH_SHARDS,
    hits: { total: { value: total, relation: 'eq' }, max_score: hits.length > 0 ? 1 : null, hits },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
