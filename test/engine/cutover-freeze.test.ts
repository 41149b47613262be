import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict, Rollout } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * The reads-first write cutover and the forward replayer: writes the source took just before the cutover may
 * still be queued (the replay-lag gate only says the lag is under its threshold). Each must land on the target
 * before the cutover sends clients' writes there, or it lands over a client's newer write to the same document.
 * The replayer here applies one queued write each time it is asked about, and its lag is always under the
 * threshold: the gate alone lets the cutover through with writes still queued.
 */

function queuedReplayerWorld(options: { stuck?: boolean } = {}) {
  const world = readsFirstWorld();
  const queue = ['doc-1 v2', 'doc-2 v5', 'doc-3 v1'];
  /** What reached the target, in order: the replayer's writes and the moment clients' writes go there. */
  const target: string[] = [];
  const applyOne = () => {
    if (options.stuck) return;
    const write = queue.shift();
    if (write) target.push(`replayed ${write}`);
  };
  const answer = (caughtUp: boolean, detail: string): ReplayLagVerdict => ({ caughtUp, detail });
  Object.assign(world.deps, {
    // The engine's clock is real time: a short bound keeps the timed-out case quick.
    cutoverFreezeTimeoutMs: 300,
    replayLag: {
      check: async () => {
        applyOne();
        return answer(true, `lag under the threshold, ${queue.length} queued`);
      },
      appliedBefore: async () => {
        applyOne();
        return answer(queue.length === 0, `${queue.length} queued`);
      },
    },
  } satisfies Partial<EngineDeps>);
  const frozenAtCutover: string[][] = [];
  const onModify = world.elb.onModify;
  world.elb.onModify = (weights) => {
    onModify?.(weights);
    if (weights.source === 0) {
      target.push('client writes');
      frozenAtCutover.push(
        world.elb.swingRules.flatMap((rule) =>
          rule.tags.filter((tag) => tag.Value?.startsWith('freeze-')).map((tag) => tag.Value ?? ''),
        ),
      );
    }
  };
  return { world, queue, target, frozenAtCutover };
}

describe('The write cutover freezes writes until the forward replayer has applied what the source took', () => {
  it('every write queued at the cutover lands on the target before any client write reaches it', async () => {
    const run = queuedReplayerWorld();
    const execution = run.world.start({ plan: '100:1', readsFirst: replayLagCutover() });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(run.target).toEqual([
      'replayed doc-1 v2',
      'replayed doc-2 v5',
      'replayed doc-3 v1',
      'client writes',
    ]);
    // Writes were frozen when the default action moved (no client write reached the source meanwhile), and the
    // freeze is gone afterwards (I9).
    expect(run.frozenAtCutover).toHaveLength(1);
    expect(run.frozenAtCutover[0]).toEqual(
      expect.arrayContaining(['freeze-methods', 'freeze-writes', 'freeze-post']),
    );
    expect(run.world.elb.swingRules).toEqual([]);
    const last = (await run.world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.cutoverFreeze).toMatchObject({
      replay: 'applied',
      frozenAt: expect.any(String),
      liftedAt: expect.any(String),
    });
  });

  it('a replayer that does not empty in time: the freeze is lifted, no cutover, the step waits as for a lag', async () => {
    const run = queuedReplayerWorld({ stuck: true });
    // Each wait for the replayer, as the record says it, and the freeze rules standing when it is written.
    const waits: { freeze: Rollout['cutoverFreeze']; freezeRules: number }[] = [];
    const store = run.world.store;
    const update = store.update.bind(store);
    store.update = async (listenerArn, executionArn, patch, fence, guard) => {
      const updated = await update(listenerArn, executionArn, patch, fence, guard);
      if (patch.status === 'waiting-replay') {
        waits.push({ freeze: updated.cutoverFreeze, freezeRules: freezeRulesOn(run.world).length });
      }
      return updated;
    };
    const execution = run.world.start({ plan: '100:1', readsFirst: replayLagCutover() });
    const deadline = Date.now() + 10_000;
    while (waits.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    execution.stop();

    expect(waits.length).toBeGreaterThanOrEqual(2);
    for (const wait of waits) {
      expect(wait.freeze).toMatchObject({ replay: 'timed-out', liftedAt: expect.any(String) });
      expect(wait.freezeRules).toBe(0);
    }
    expect(run.target).toEqual([]);
    expect(run.world.elb.weights).toEqual({ source: 999, target: 0 });
  });
});

const freezeRulesOn = (world: ReturnType<typeof readsFirstWorld>) =>
  world.elb.swingRules.filter((rule) => rule.tags.some((tag) => tag.Value?.startsWith('freeze-')));
