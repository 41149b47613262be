import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { SAFETY_NET_WAIT_SECONDS, type SafetyNetDeps, safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { forceRollback } from '#domain/force-rollback.ts';
import { QUIET_AFTER_RELEASE_SECONDS } from '#domain/quiet.ts';
import type { Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { forceRollbackDeps, holderExecutions } from '#test/support/forced-rollback.ts';
import { holdingCalls } from '#test/support/held-calls.ts';
import { makeWorld } from '#test/support/rollout-world.ts';
import { ACCESS } from '../../infra/controller/handler-access.ts';

/**
 * Review 2 of issue 20 (quiet period, 2c4484e). quiet.ts reasons that no attempt of an ended rollout acts later
 * than its release + 75 s, counting the safety net as "150 s of which it first waits 75 s after the stop". That
 * holds only for a safety-net invocation that starts at the very instant of the stop. EventBridge delivers the
 * status event at least once and Lambda's async queue delays it: a second invocation of the safety net for the
 * same event, started d seconds after the stop, also wakes at stop + 75 s, reads the lock still held and the
 * step's weights, and may then stall (a throttled ModifyListener, SDK retries) until its own timeout, stop + d +
 * 150 s. Its twin restores and releases at stop + 75 s (quiet until stop + 150 s); a new rollout takes the lock
 * at stop + 151 s and shifts; the stalled invocation's ModifyListener of the old starting weights then lands
 * over the new rollout, which later halts on a "hand change" nobody made (I3, I4; the quiet period's own claim).
 */

const A = 'arn:aws:states:us-east-1:123456789012:execution:swing:first';
const B = 'arn:aws:states:us-east-1:123456789012:execution:swing:second';
const START: Weights = { source: 999, target: 0 };

describe('Review 2: a duplicate safety-net invocation delivered late', () => {
  it('writes nothing on the listener after the quiet period, when the next rollout holds it', async () => {
    const world = makeWorld({ starting: START });
    const t0 = Date.parse('2026-12-07T06:00:00.000Z');
    let clock = t0;
    const now = () => new Date(clock);
    const quietAfterReleaseMs = QUIET_AFTER_RELEASE_SECONDS * 1000;
    const engine = { ...world.deps, now, quietAfterReleaseMs };

    // Rollout A shifts to 10 % and is stopped (swing abort's StopExecution, or a failure) at t0.
    await preflight(engine, { executionArn: A, input: { plan: '10:1000,50:1000,100' } });
    await shiftWeights(engine, { executionArn: A, index: 0 });
    expect(world.elb.weights).toEqual(percentToWeights(10));
    const stopEvent = {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      time: new Date(t0).toISOString(),
      detail: { executionArn: A, status: 'ABORTED' },
    };

    // Invocation Y (the event's second delivery) starts 5 s after the stop; its ModifyListener stalls.
    const yStartedAt = t0 + 5_000;
    clock = yStartedAt;
    const real = world.deps.listener;
    const yWrites = holdingCalls(real, 'writeWeights');
    const netDeps = (listener: SafetyNetDeps['listener']): SafetyNetDeps => ({
      ...engine,
      listener,
      waitAfterStopMs: SAFETY_NET_WAIT_SECONDS * 1000,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    const y = safetyNet(netDeps(yWrites.port), stopEvent);
    await world.until(() => yWrites.stalled, 'invocation Y stalled in its ModifyListener');

    // Invocation X (the first delivery) restores and releases at stop + 75 s.
    clock = t0 + SAFETY_NET_WAIT_SECONDS * 1000;
    expect(await safetyNet(netDeps(real), stopEvent)).toBe('restored');
    expect(world.elb.weights).toEqual(START);
    const quietUntil = (await world.store.get(world.deps.listenerArn))?.rollout?.quietUntil;
    expect(quietUntil).toBeDefined();

    // Y is alive until its Lambda's timeout: the quiet period outlasts it, so no rollout starts meanwhile.
    const yDeadline = yStartedAt + ACCESS['safety-net'].timeout.toSeconds() * 1000;
    expect(Date.parse(quietUntil as string), 'quiet until Y can no longer act').toBeGreaterThanOrEqual(
      yDeadline,
    );
    clock = yDeadline - 1_000;
    await expect(
      preflight(engine, { executionArn: B, input: { plan: '10:1000,50:1000,100' } }),
    ).rejects.toMatchObject({ name: 'ListenerQuiet' });
    expect(await world.lockOwner()).toBeUndefined();

    // Y's stalled ModifyListener lands on a free listener (the starting weights X restored); B starts after.
    yWrites.release();
    await y.catch(() => undefined);
    expect(world.elb.weights).toEqual(START);
    clock = Date.parse(quietUntil as string) + 1_000;
    await preflight(engine, { executionArn: B, input: { plan: '10:1000,50:1000,100' } });
    await shiftWeights(engine, { executionArn: B, index: 0 });
    expect(await world.lockOwner()).toBe(B);
    expect(world.elb.weights).toEqual(percentToWeights(10));
  });

  it('the quiet period outlasts every function that may act for a rollout', () => {
    const longest = Math.max(...Object.values(ACCESS).map((access) => access.timeout.toSeconds()));
    expect(QUIET_AFTER_RELEASE_SECONDS).toBeGreaterThanOrEqual(longest);
  });

  it('with swing rollback --force --release-lock freeing the lock while it stalls, writes nothing over the next rollout', async () => {
    // The safety net looks stuck (its ModifyListener stalls): the operator forces the rollback once the CLI
    // allows it (safetyNetActsBy: stop + 105 s). That release records no quiet period, so a new rollout may start
    // at once, while the stalled safety net may still act until its own start + 150 s.
    const world = makeWorld({ starting: START });
    const t0 = Date.parse('2026-12-07T06:00:00.000Z');
    let clock = t0;
    const now = () => new Date(clock);
    const engine = { ...world.deps, now, quietAfterReleaseMs: QUIET_AFTER_RELEASE_SECONDS * 1000 };
    await preflight(engine, { executionArn: A, input: { plan: '10:1000,50:1000,100' } });
    await shiftWeights(engine, { executionArn: A, index: 0 });
    const stopEvent = {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      time: new Date(t0).toISOString(),
      detail: { executionArn: A, status: 'FAILED' },
    };
    const startedAt = t0 + 1_000;
    clock = startedAt;
    const netWrites = holdingCalls(world.deps.listener, 'writeWeights');
    const net = safetyNet(
      {
        ...engine,
        listener: netWrites.port,
        waitAfterStopMs: SAFETY_NET_WAIT_SECONDS * 1000,
        sleep: async (ms) => {
          clock += ms;
        },
      },
      stopEvent,
    );
    await world.until(() => netWrites.stalled, 'the safety net stalled in its ModifyListener');

    clock = t0 + 106_000;
    const forced = await forceRollback(
      forceRollbackDeps(world, { executions: holderExecutions('FAILED', new Date(t0)), now }),
      { releaseLock: true },
    );
    expect(forced).toMatchObject({ kind: 'done', released: true });

    const quietUntil = (await world.store.get(world.deps.listenerArn))?.rollout?.quietUntil;
    const netDeadline = startedAt + ACCESS['safety-net'].timeout.toSeconds() * 1000;
    expect(
      Date.parse(quietUntil ?? ''),
      'the forced release is quiet until the safety net can no longer act',
    ).toBeGreaterThanOrEqual(netDeadline);

    clock += 1_000;
    await expect(
      preflight(engine, { executionArn: B, input: { plan: '10:1000,50:1000,100' } }),
    ).rejects.toMatchObject({ name: 'ListenerQuiet' });
    expect(await world.lockOwner()).toBeUndefined();
    netWrites.release();
    await net.catch(() => undefined);
    expect(world.elb.weights).toEqual(START);
  });
});
