import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import type { Weights } from '#domain/types.ts';
import { LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld } from '#test/support/reads-first-world.ts';
import { actingAfterFirstRead, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Issue 20, defect 4: with TargetGroupStickinessConfig on the weighted forward, ALB keeps each client on the
 * group its cookie names whatever the weights, so a restore would leave the clients that reached the target
 * there for up to the stickiness duration (7 days at most). Swing refuses a sticky forward at Preflight, on
 * what it reads before the lock and again once the lock is held, so no rollout runs, and no restore runs, with
 * sticky clients on the target.
 */

const START: Weights = { source: 999, target: 0 };
const STICKY_START = 'arn:aws:states:us-east-1:000000000000:execution:swing-rollout:sticky';
const stepFunctions = new LocalStepFunctions({ msPerSecond: 1, retryDelayMs: 1 });

function forward(weights: Weights, sticky: boolean): Action[] {
  return [
    {
      Type: 'forward',
      Order: 1,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: LISTENER.sourceTargetGroupArn, Weight: weights.source },
          { TargetGroupArn: LISTENER.targetTargetGroupArn, Weight: weights.target },
        ],
        TargetGroupStickinessConfig: sticky ? { Enabled: true, DurationSeconds: 3600 } : { Enabled: false },
      },
    },
  ];
}

const modifyListenerCalls = (world: Pick<ReturnType<typeof makeWorld>, 'elb'>) =>
  world.elb.log.filter((event) => event.kind === 'call' && event.operation === 'ModifyListener');

describe('A sticky weighted forward', () => {
  it.each<[string, Record<string, unknown>]>([
    ['all', {}],
    ['reads-first', { traffic: 'reads-first', readsFirst: { cutoverGate: 'replay-lag' } }],
  ])(
    'is refused at Preflight (%s), naming the setting and the fix, and nothing is written',
    async (_, input) => {
      const world = input.traffic ? readsFirstWorld() : makeWorld({ starting: START, stepFunctions });
      world.elb.setDefaultActions(forward(START, true));

      const result = await world.sfn.start(world.deps, { plan: '10:1000,100', ...input }).result;

      expect(result).toMatchObject({ status: 'FAILED', error: 'ListenerShapeInvalid' });
      const cause = result.status === 'FAILED' ? (result.cause ?? '') : '';
      expect(cause).toContain('TargetGroupStickinessConfig');
      expect(cause).toContain('Enabled=false');
      expect(modifyListenerCalls(world)).toEqual([]);
      expect(world.elb.swingRules).toEqual([]);
      expect(await world.lockOwner()).toBeUndefined();
      expect(world.elb.rawActions).toEqual(forward(START, true));
    },
  );

  it('is refused on what Preflight reads once the lock is held (turned on after its first read)', async () => {
    const world = makeWorld({ starting: START, stepFunctions });
    const listener = actingAfterFirstRead(world.deps.listener, () =>
      world.elb.setDefaultActions(forward(START, true)),
    );

    const started = preflight(
      { ...world.deps, listener },
      { executionArn: STICKY_START, input: { plan: '10:1000,100' } },
    );

    await expect(started).rejects.toMatchObject({
      name: 'ListenerShapeInvalid',
      message: expect.stringContaining('TargetGroupStickinessConfig'),
    });
    expect(await world.lockOwner()).toBeUndefined();
    expect(modifyListenerCalls(world)).toEqual([]);
  });

  it('with stickiness off, the rollout runs', async () => {
    const world = makeWorld({ starting: START, stepFunctions });
    world.elb.setDefaultActions(forward(START, false));

    const result = await world.sfn.start(world.deps, { plan: '10:1,100' }).result;

    expect(result.status).toBe('SUCCEEDED');
  });
});
