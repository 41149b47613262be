import { type Answer, errorAnswer, type IndexStore } from '../documents.ts';
import { matchingHits, resolveIndices, SEARCH_SHARDS, searchBody } from './hits.ts';
import { BadRequest, failure, parseLines, values, whole } from './request.ts';
import type { ScrollContexts } from './scrolls.ts';

/** The read APIs over the document store: `_search` (opening a scroll when asked), `_msearch`, `_count`, `_mget`. */

const DEFAULT_SIZE = 10;

export function search(
  store: IndexStore,
  scrolls: ScrollContexts,
  expression: string | undefined,
  request: Record<string, unknown>,
  params: URLSearchParams,
): Answer {
  const indices = resolveIndices(store, expression);
  if (!Array.isArray(indices)) return indices;
  const size = whole(request.size ?? params.get('size'), 'size', DEFAULT_SIZE);
  const from = whole(request.from ?? params.get('from'), 'from', 0);
  const hits = matchingHits(store, indices, request.query);
  const scroll = params.get('scroll') ?? request.scroll;
  if (scroll === undefined || scroll === null) {
    return { status: 200, body: searchBody(hits.slice(from, from + size), hits.length) };
  }
  return scrolls.open(hits, size, scroll);
}

export function count(
  store: IndexStore,
  expression: string | undefined,
  request: Record<string, unknown>,
): Answer {
  const indices = resolveIndices(store, expression);
  if (!Array.isArray(indices)) return indices;
  return {
    status: 200,
    body: { count: matchingHits(store, indices, request.query).length, _shards: SEARCH_SHARDS },
  };
}

export function msearch(
  store: IndexStore,
  scrolls: ScrollContexts,
  expression: string | undefined,
  text: string,
): Answer {
  const lines = parseLines(text, '_msearch body');
  if (lines.length === 0 || lines.length % 2 !== 0) {
    throw new BadRequest(
      'illegal_argument_exception',
      '_msearch takes pairs of lines: a header ({} or {"index": ...}) then a search body',
    );
  }
  const responses: Record<string, unknown>[] = [];
  for (let at = 0; at < lines.length; at += 2) {
    const header = lines[at]!;
    const index = header.index === undefined ? expression : values(header.index).join(',');
    let answer: Answer;
    try {
      answer = search(store, scrolls, index, lines[at + 1]!, new URLSearchParams());
    } catch (error) {
      answer = failure(error);
    }
    responses.push({ ...answer.body, status: answer.status });
  }
  return { status: 200, body: { took: 1, responses } };
}

export function mget(
  store: IndexStore,
  expression: string | undefined,
  request: Record<string, unknown>,
): Answer {
  const asked: { _index?: unknown; _id?: unknown }[] = Array.isArray(request.docs)
    ? (request.docs as { _index?: unknown; _id?: unknown }[])
    : Array.isArray(request.ids)
      ? (request.ids as unknown[]).map((id) => ({ _id: id }))
      : [];
  if (asked.length === 0) {
    throw new BadRequest('action_request_validation_exception', 'Validation Failed: 1: no documents to get;');
  }
  const docs = asked.map((item) => {
    const index = String(item._index ?? expression ?? '');
    const id = String(item._id ?? '');
    if (!index || !id) {
      return {
        _index: index,
        _id: id,
        error: errorAnswer(400, 'illegal_argument_exception', 'index and id are required').body.error,
      };
    }
    const answer = store.get(index, id);
    return answer.body.error ? { _index: index, _id: id, error: answer.body.error } : answer.body;
  });
  return { status: 200, body: { docs } };
}
