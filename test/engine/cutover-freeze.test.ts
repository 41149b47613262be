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
    // The engine's clock is real time: a short bound keeps the timed-out case quick (no rule settling here).
    cutoverFreezeTimeoutMs: 300,
    ruleSettleMs: 0,
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
  /** What writes-to-source did when each replayer question was asked: 503 while frozen, else forwarded. */
  const writesRuleWhenAsked: string[] = [];
  const appliedBefore = world.deps.replayLag?.appliedBefore;
  if (appliedBefore)
    Object.assign(world.deps.replayLag ?? {}, {
      appliedBefore: async (since: Date) => {
        writesRuleWhenAsked.push(writesToSourceAction(world));
        return appliedBefore(since);
      },
    });
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
  return { world, queue, target, frozenAtCutover, writesRuleWhenAsked };
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
    // writes-to-source comes before the freeze's rules: it answered 503 too while the replayer emptied, so no
    // write it matches reached the source during the freeze (review 4: it forwarded them, and a second wait as
    // long as the first followed).
    expect(run.writesRuleWhenAsked[0]).toBe('fixed-response');
    expect(run.writesRuleWhenAsked).not.toContain('forward');
    const last = (await run.world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.cutoverFreeze).toMatchObject({
      replay: 'applied',
      frozenAt: expect.any(String),
      liftedAt: expect.any(String),
    });
  });

  it('a hand change to the listener while writes are frozen halts the cutover: no ModifyListener over it, no freeze left', async () => {
    const run = queuedReplayerWorld();
    const handWeights = { source: 500, target: 499 };
    const appliedBefore = run.world.deps.replayLag?.appliedBefore;
    let changed = false;
    Object.assign(run.world.deps.replayLag ?? {}, {
      appliedBefore: async (since: Date) => {
        // An operator moves the listener while the freeze waits for the replayer.
        if (!changed) run.world.elb.setByHand(handWeights);
        changed = true;
        return appliedBefore ? appliedBefore(since) : { caughtUp: true, detail: 'nothing queued' };
      },
    });
    const result = await run.world.start({ plan: '100:1', readsFirst: replayLagCutover() }).result;

    expect(changed).toBe(true);
    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    expect(run.world.elb.weights).toEqual(handWeights);
    expect(run.target).not.toContain('client writes');
    expect(freezeRulesOn(run.world)).toEqual([]);
  });

  it('a replayer that does not empty in time: the freeze is lifted, no cutover, the step waits without freezing again', async () => {
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
    await run.world.until((rollout) => rollout?.taskKind === 'replay', 'the step waits for the replayer');
    // Ten freeze bounds later: the lag alarm stayed OK all along, and the step did not freeze again.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const freeze = (await run.world.store.get(LISTENER.listenerArn))?.rollout?.cutoverFreeze;
    execution.stop();

    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatchObject({
      freeze: { replay: 'timed-out', liftedAt: expect.any(String) },
      freezeRules: 0,
    });
    expect(freeze).toMatchObject({ attempt: 1, replay: 'timed-out' });
    // Frozen with the rest, writes-to-source forwards to the source again once the freeze is lifted.
    expect(run.writesRuleWhenAsked).toContain('fixed-response');
    expect(writesToSourceAction(run.world)).toBe('forward');
    expect(run.target).toEqual([]);
    expect(run.world.elb.weights).toEqual({ source: 999, target: 0 });
  });

  it('a freeze that timed out is tried again only past its backlog, at most three times, then the step rolls back', async () => {
    const world = readsFirstWorld();
    // The replayer lags 200 ms behind the source, under the lag threshold; while writes are frozen it never
    // catches up within the freeze's bound (so each freeze times out, however slow the machine), and once they
    // flow again it has applied what came before `since` only 200 ms after it.
    const lagMs = 200;
    const applied = (since: Date): ReplayLagVerdict =>
      freezeRulesOn(world).length === 0 && Date.now() >= since.getTime() + lagMs
        ? { caughtUp: true, detail: 'applied' }
        : { caughtUp: false, detail: 'writes queued' };
    Object.assign(world.deps, {
      cutoverFreezeTimeoutMs: 100,
      ruleSettleMs: 0,
      replayLag: {
        check: async () => ({ caughtUp: true, detail: 'lag under the threshold' }),
        appliedBefore: async (since: Date) => applied(since),
      },
    } satisfies Partial<EngineDeps>);
    const lifted: NonNullable<Rollout['cutoverFreeze']>[] = [];
    const store = world.store;
    const update = store.update.bind(store);
    store.update = async (listenerArn, executionArn, patch, fence, guard) => {
      const updated = await update(listenerArn, executionArn, patch, fence, guard);
      if (patch.cutoverFreeze?.liftedAt) lifted.push(patch.cutoverFreeze);
      return updated;
    };
    const execution = world.start({ plan: '100:1', readsFirst: replayLagCutover() });
    // The lag alarm's OK event (a brief ALARM and back, or a repeated one) releases each wait once past the lag.
    const releases = setInterval(() => void world.lagEvent('OK').catch(() => undefined), 300);
    const result = await execution.result.finally(() => clearInterval(releases));

    expect(result).toMatchObject({ status: 'FAILED', error: 'ReplayLagTimedOut' });
    expect(lifted.map((freeze) => freeze.attempt)).toEqual([1, 2, 3]);
    for (const [at, freeze] of lifted.entries()) {
      expect(freeze.replay).toBe('timed-out');
      // Each freeze after the first began once the replayer had applied what the source took before the last lift.
      const previous = lifted[at - 1];
      if (previous)
        expect(Date.parse(freeze.startedAt)).toBeGreaterThanOrEqual(
          Date.parse(previous.liftedAt ?? '') + lagMs,
        );
    }
    expect(world.elb.weights).toEqual({ source: 999, target: 0 });
    expect(world.elb.swingRules).toEqual([]);
  });
});

const writesToSourceAction = (world: ReturnType<typeof readsFirstWorld>) =>
  world.elb.swingRules.find((rule) => rule.tags.some((tag) => tag.Value === 'writes-to-source'))?.Actions?.[0]
    ?.Type ?? 'none';

const freezeRulesOn = (world: ReturnType<typeof readsFirstWorld>) =>
  world.elb.swingRules.filter((rule) => rule.tags.some((tag) => tag.Value?.startsWith('freeze-')));
