import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ListenerRecord, Weights } from '#domain/types.ts';
import { aws, fixture, listenerAt, mockDeployedStack, resetAws, swing } from '#test/cli/harness.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking } from '#test/support/rollout-world.ts';

/**
 * `swing status` and `swing history` over the engine's own records: a reads-first rollout run through the real
 * ASL and engine on the fake AWS, its record taken as it baked a read step, as it baked the write cutover, and
 * once an alarm after the cutover rolled it back. The listener answers with the weights the run left on it.
 */
interface Moment {
  readonly record: ListenerRecord;
  readonly weights: Weights;
}

describe('swing status and swing history of a reads-first rollout, over the engine’s own records', () => {
  let reading: Moment;
  let cutOver: Moment;
  let ended: Moment;

  beforeAll(async () => {
    const world = readsFirstWorld({ targetRequests: 41 });
    // A record as DynamoDB would hand it back: a copy, not the live object the run goes on changing.
    const moment = async (): Promise<Moment> => ({
      record: structuredClone((await world.store.get(LISTENER.listenerArn))!),
      weights: { ...world.elb.weights },
    });
    const execution = world.start({
      plan: '50:2000,100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 5000, afterCutover: 'rollback' },
    });
    await world.until(baking(0), 'bake of the 50 % read step');
    reading = await moment();
    await world.until((rollout) => baking(2)(rollout) && rollout?.cutoverAt !== undefined, 'cutover bake');
    cutOver = await moment();
    await world.fireAlarm(ALARM);
    await execution.result;
    ended = await moment();
  }, 30_000);

  beforeEach(() => {
    resetAws();
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
  });

  const status = async ({ record, weights }: Moment, json = false) => {
    mockDeployedStack(record);
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(weights.source, weights.target));
    const result = await swing(['status', ...(json ? ['--json'] : [])]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };

  it('at a read step: the read share at 50 %, the write share at 0, the phase reads ramping', async () => {
    const text = await status(reading);

    expect(text).toMatch(/Phase\s+reads ramping; writes stay on the source/);
    expect(text).toMatch(/Reads\s+\[[#.]+\] 50\.\d %/);
    expect(text).toMatch(/Writes\s+\[[.]+\] 0\.0 %/);
  });

  it('in the cutover’s bake: both shares at 100 %, the phase writes cut over with the pins held', async () => {
    const text = await status(cutOver);

    expect(text).toMatch(/Phase\s+writes cut over/);
    expect(text).toMatch(/Reads\s+\[#+\] 100\.0 %/);
    expect(text).toMatch(/Writes\s+\[#+\] 100\.0 %/);
    expect(text).toMatch(/Cutover\s+writes cut over at/);
  });

  it('rolled back after the cutover: the phase says the writes had moved, the shares are back to 0, the exposure is given', async () => {
    const rollout = ended.record.history.at(-1)!;
    expect(rollout.outcome).toBe('rolled-back');
    const text = await status(ended);

    expect(text).toMatch(
      /Phase\s+ended rolled-back: writes had been cut over at (\S+); left reads 0\.0 %, writes 0\.0 % to the target/,
    );
    expect(text).toContain(`writes had been cut over at ${rollout.cutoverAt}`);
    expect(text).toMatch(/Exposure\s+write exposure: (\d+ ms|\d+\.\ds) from the cutover/);
    expect(text).not.toMatch(/write exposure: 0s /);
  });

  it('swing history: how far each share went and the phase it ended in, in the table and --json', async () => {
    mockDeployedStack({ ...ended.record, lockOwner: undefined });
    const table = await swing(['history']);
    const json = JSON.parse((await swing(['history', '--json'])).stdout);

    expect(table.stdout.split('\n')[0]).toMatch(/TRAFFIC\s+REACHED\s+DURATION/);
    expect(table.stdout).toMatch(/rolled-back\s+reads-first\s+reads 100 %, writes cut over/);
    expect(json.rollouts[0]).toMatchObject({
      traffic: 'reads-first',
      reached: { readPercent: 100, writePercent: 100 },
      phase: expect.stringMatching(/^ended rolled-back: writes had been cut over at /),
    });
  });
});
