import type { Answer, IndexStore } from '../documents.ts';
import { matchingHits, resolveIndices } from './hits.ts';
import { BadRequest, missingId, parseLines } from './request.ts';

/** The write APIs that change many documents at once: `_bulk` and `_delete_by_query`. */

const BULK_OPERATIONS = ['index', 'create', 'update', 'delete'];

export function bulk(
  store: IndexStore,
  expression: string | undefined,
  text: string,
  replayed: boolean,
): Answer {
  const lines = parseLines(text, '_bulk body');
  const items: Record<string, unknown>[] = [];
  let errors = false;
  for (let at = 0; at < lines.length; ) {
    const action = lines[at]!;
    at += 1;
    const [operation, meta] = Object.entries(action)[0] ?? [];
    if (!operation || !BULK_OPERATIONS.includes(operation)) {
      throw new BadRequest(
        'illegal_argument_exception',
        `Malformed action/metadata line [${at}], expected one of [create, delete, index, update] but found [${operation}]`,
      );
    }
    const { _index, _id } = (meta ?? {}) as { _index?: unknown; _id?: unknown };
    const index = _index === undefined ? expression : String(_index);
    const id = _id === undefined ? undefined : String(_id);
    if (index === undefined) {
      throw new BadRequest('action_request_validation_exception', `Validation Failed: 1: index is missing;`);
    }
    let answer: Answer;
    if (operation === 'delete') {
      answer = id === undefined ? missingId() : store.delete(index, id, replayed);
    } else {
      const source = lines[at];
      at += 1;
      if (source === undefined) {
        throw new BadRequest(
          'illegal_argument_exception',
          `the ${operation} action on line ${at - 1} has no document line`,
        );
      }
      answer =
        operation === 'update'
          ? id === undefined
            ? missingId()
            : store.update(index, id, source, replayed)
          : store.put(index, id, source, operation as 'index' | 'create', replayed);
    }
    if (answer.status >= 300 && !(operation === 'delete' && answer.status === 404 && !answer.body.error)) {
      errors = true;
      items.push({
        [operation]: { _index: index, _id: id ?? null, status: answer.status, error: answer.body.error },
      });
    } else items.push({ [operation]: { ...answer.body, status: answer.status } });
  }
  return { status: 200, body: { took: 1, errors, items } };
}

export function deleteByQuery(
  store: IndexStore,
  expression: string,
  request: Record<string, unknown>,
  replayed: boolean,
): Answer {
  const indices = resolveIndices(store, expression);
  if (!Array.isArray(indices)) return indices;
  const hits = matchingHits(store, indices, request.query);
  for (const hit of hits) store.delete(hit._index, hit._id, replayed);
  return {
    status: 200,
    body: {
      took: 1,
      timed_out: false,
      total: hits.length,
      deleted: hits.length,
      batches: hits.length > 0 ? 1 : 0,
      version_conflicts: 0,
      noops: 0,
      retries: { bulk: 0, search: 0 },
      throttled_millis: 0,
      requests_per_second: -1,
      throttled_until_millis: 0,
      failures: [],
    },
  };
}
