import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { compileConditions, firstMatchingRule, parseRequest } from '#local/alb-rules.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking } from '#test/support/rollout-world.ts';

/**
 * Review 4 (issue 22): the rollback's write freeze stands at base+13 to +17, after every rule of the reads-first
 * set, and the pins stay on the listener through the cutover's bake (the scroll keep-alive, 300 s by default):
 * a rollback in that bake freezes with the pins still evaluated first. A pin forwards whatever it matches to the
 * source, whatever the method, so writes that carry `scroll=` (`_delete_by_query`, `_update_by_query` and
 * `_reindex` take it), document ids with a `..` in them, and DELETEs of ML tasks pass the freeze and land on the
 * source while the reverse replayer is still applying the target's earlier writes there: a `_delete_by_query`
 * runs on the source before the reverse replayer brings a document the client wrote to the target before it,
 * so that document stays on the source for good. ALB evaluates rules in priority order and has nothing like "except when frozen".
 */

const REVERSE_ALARM = 'swing-reverse-lag';

/** Where ALB sends a request on the listener as it is now: the freeze's 503, the source, the target, a split. */
function routeOf(world: ReturnType<typeof readsFirstWorld>, method: string, url: string): string {
  const rules = world.elb.currentRules.map((rule) => ({
    priority: Number(rule.Priority),
    matches: compileConditions(rule.Conditions ?? []),
    fixed: (rule.Actions ?? []).some((action) => action.Type === 'fixed-response'),
    weights: world.elb.ruleWeights(rule),
  }));
  const rule = firstMatchingRule(rules, parseRequest({ method, url, headers: {} }));
  if (rule?.fixed) return '503';
  const weights = rule?.weights ?? world.elb.weights;
  return weights.target === 0 ? 'source' : weights.source === 0 ? 'target' : 'split';
}

describe('Review 4: writes the pins match during a rollback freeze in the cutover bake', () => {
  it('answers every write 503 while frozen, pinned paths included', async () => {
    const world = readsFirstWorld({ targetRequests: 40 });
    Object.assign(world.deps, {
      reverseCapture: { lagAlarm: REVERSE_ALARM, missingData: 'lagging', drainTimeoutSeconds: 5 },
      // The reverse replayer has not drained: Drain stays open, writes frozen.
      reverseReplay: { check: async () => ({ drained: false, detail: `${REVERSE_ALARM} is in ALARM` }) },
    } satisfies Partial<EngineDeps>);
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 80_000, scrollKeepAliveSeconds: 80_000 },
    });
    await world.until(
      (rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined,
      'the cutover bake',
    );
    await world.fireAlarm(ALARM);
    await world.until((rollout) => rollout?.taskKind === 'drain' && !!rollout.taskToken, 'Drain open');

    // The freeze stands: an ordinary write is refused, reads flow to the target.
    expect(routeOf(world, 'PUT', '/logs/_doc/1')).toBe('503');
    expect(routeOf(world, 'POST', '/logs/_delete_by_query')).toBe('503');
    expect(routeOf(world, 'GET', '/logs/_doc/1')).toBe('target');

    const writes = [
      ['POST', '/logs/_delete_by_query?scroll=1m&conflicts=proceed'],
      ['POST', '/logs/_update_by_query?scroll=5m'],
      ['POST', '/_reindex?scroll=5m'],
      ['PUT', '/logs/_doc/..v2'],
      ['DELETE', '/logs/_doc/..v2'],
    ] as const;
    const routes = Object.fromEntries(
      writes.map(([method, url]) => [`${method} ${url}`, routeOf(world, method, url)]),
    );
    execution.stop();
    await execution.result;

    // No write lands anywhere while frozen.
    expect(routes).toEqual(Object.fromEntries(writes.map(([method, url]) => [`${method} ${url}`, '503'])));
  });
});
