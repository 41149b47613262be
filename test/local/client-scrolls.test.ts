import { describe, expect, it } from 'vitest';
import { ClientState } from '#local/client/client.ts';
import { ClientScrolls } from '#local/client/scrolls.ts';

const MISSING = JSON.stringify({
  error: {
    type: 'search_phase_execution_exception',
    root_cause: [{ type: 'search_context_missing_exception' }],
  },
  status: 404,
});

/** Three scrolls open on the source, each with pages left; the next request continues the first. */
function threeOpenScrolls() {
  let roll = 0.9; // at or above 0.75: open another scroll rather than continue one
  const scrolls = new ClientScrolls(new ClientState('swing-demo', () => roll, 10), 3);
  for (const id of ['s1', 's2', 's3']) {
    const request = scrolls.next();
    expect(request?.operation).toBe('scroll-open');
    request?.onAnswer?.({
      status: 200,
      cluster: 'source',
      body: JSON.stringify({ _scroll_id: id, hits: { hits: [1, 2, 3, 4, 5] } }),
    });
  }
  roll = 0;
  return scrolls;
}

describe("Client traffic's open scrolls", () => {
  it('drops only the scroll a failed continuation names, even when that answer comes twice', () => {
    const scrolls = threeOpenScrolls();
    const continuation = scrolls.next();
    expect(continuation?.operation).toBe('scroll-continue');
    expect(continuation?.body).toContain('"s1"');
    const answer = { status: 404, cluster: 'target', body: MISSING };
    continuation?.onAnswer?.(answer);
    expect(scrolls.open.map((scroll) => scroll.id)).toEqual(['s2', 's3']);
    // The scroll is no longer open: forgetting it again must not take another one (indexOf was -1).
    continuation?.onAnswer?.(answer);
    expect(scrolls.open.map((scroll) => scroll.id)).toEqual(['s2', 's3']);
  });

  it('forgets nothing when told to drop a scroll that is not open', () => {
    const scrolls = threeOpenScrolls();
    const [first] = scrolls.open;
    scrolls.drop(first!);
    scrolls.drop(first!);
    expect(scrolls.open.map((scroll) => scroll.id)).toEqual(['s2', 's3']);
  });
});
