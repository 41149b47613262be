import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryRolloutStore } from '#adapters/store-memory.ts';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import { AlarmStateChangeSchema } from '#domain/events.ts';
import type { Rollout, TaskCallbackPort } from '#domain/types.ts';
import { type GroupWindow, type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import {
  type AlarmStateChangeEvent,
  defaultLocalAlarms,
  type LocalAlarmDefinition,
  LocalAlarms,
} from '#local/local-alarms.ts';
import { seeded } from '#local/run.ts';

const FIVE_XX: LocalAlarmDefinition = {
  name: 'target-5xx',
  group: 'target',
  kind: '5xx-rate',
  threshold: 0.05,
  windowMs: 3000,
  minRequests: 20,
};
const P99: LocalAlarmDefinition = {
  name: 'target-p99',
  group: 'target',
  kind: 'p99-latency',
  threshold: 1000,
  windowMs: 3000,
  minRequests: 20,
};

/** A window source whose figures the test sets, to walk an alarm through its states. */
function scriptedWindow(initial: Partial<GroupWindow> = {}) {
  let figures: GroupWindow = { requests: 0, errors5xx: 0, errorRate: 0, p99LatencyMs: 0, ...initial };
  const calls: { group: string; ms: number }[] = [];
  return {
    calls,
    set(next: Partial<GroupWindow>) {
      figures = { ...figures, ...next };
    },
    window(group: 'source' | 'target', ms: number) {
      calls.push({ group, ms });
      return figures;
    },
  };
}

async function sendVia(port: number, count: number) {
  for (let i = 0; i < count; i += 1) await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer();
}

describe('Class: LocalAlarms', () => {
  describe('over the local ALB', () => {
    let source: ClusterStandIn;
    let target: ClusterStandIn;
    let alb: LocalAlb;

    beforeAll(async () => {
      source = await startClusterStandIn({ name: 'source', port: 0 });
      target = await startClusterStandIn({ name: 'target', port: 0, random: seeded(5) });
    });
    afterEach(async () => {
      await alb.close();
      target.setFault({ errorRate: 0 });
    });
    afterAll(async () => {
      await source.close();
      await target.close();
    });

    it('goes to ALARM when the target 5xx rate exceeds the threshold over enough requests', async () => {
      alb = await startLocalAlb({ portBase: 0, sourceUrl: source.url, targetUrl: target.url });
      const alarms = new LocalAlarms(alb, [FIVE_XX]);
      target.setFault({ errorRate: 0.5 });

      await sendVia(alb.ports.target, 30);
      const evaluation = await alarms.evaluate();

      expect(evaluation.alarms).toEqual([
        {
          name: 'target-5xx',
          state: 'ALARM',
          reason: expect.stringContaining('Threshold Crossed'),
          firing: true,
        },
      ]);
      expect(evaluation.firing.map((alarm) => alarm.name)).toEqual(['target-5xx']);
    });

    it('stays INSUFFICIENT_DATA below the minimum request count even when every request fails', async () => {
      alb = await startLocalAlb({ portBase: 0, sourceUrl: source.url, targetUrl: target.url });
      const alarms = new LocalAlarms(alb, [FIVE_XX]);
      target.setFault({ errorRate: 1 });

      await sendVia(alb.ports.target, 10);
      const evaluation = await alarms.evaluate();

      expect(evaluation.alarms[0]).toMatchObject({ state: 'INSUFFICIENT_DATA', firing: false });
      expect(evaluation.alarms[0]?.reason).toContain('10 requests');
      expect(evaluation.firing).toEqual([]);
    });

    it('stays OK when the target answers well and only the source fails', async () => {
      alb = await startLocalAlb({ portBase: 0, sourceUrl: target.url, targetUrl: source.url });
      const alarms = new LocalAlarms(alb, [FIVE_XX]);
      target.setFault({ errorRate: 1 });

      await sendVia(alb.ports.target, 25);
      await sendVia(alb.ports.source, 25);

      expect((await alarms.evaluate()).alarms[0]).toMatchObject({ state: 'OK', firing: false });
    });
  });

  describe('Method: evaluate', () => {
    it('judges p99 latency against its threshold once there are enough samples', async () => {
      const window = scriptedWindow({ requests: 25, p99LatencyMs: 1500 });
      const alarms = new LocalAlarms(window, [P99]);

      const slow = await alarms.evaluate();
      window.set({ p99LatencyMs: 900 });
      const fast = await alarms.evaluate();
      window.set({ requests: 5, p99LatencyMs: 5000 });
      const sparse = await alarms.evaluate();

      expect(slow.alarms[0]).toMatchObject({ state: 'ALARM', firing: true });
      expect(slow.alarms[0]?.reason).toContain('p99 1500 ms > 1000 ms');
      expect(fast.alarms[0]).toMatchObject({ state: 'OK', firing: false });
      expect(sparse.alarms[0]).toMatchObject({ state: 'INSUFFICIENT_DATA', firing: false });
    });

    it('counts INSUFFICIENT_DATA as firing when the policy says so', async () => {
      const alarms = new LocalAlarms(scriptedWindow(), [FIVE_XX], 'firing');

      const evaluation = await alarms.evaluate();

      expect(evaluation.firing).toEqual([
        expect.objectContaining({ name: 'target-5xx', state: 'INSUFFICIENT_DATA' }),
      ]);
    });

    it('reads each alarm over its own group and window', async () => {
      const window = scriptedWindow();
      const alarms = new LocalAlarms(window, [{ ...FIVE_XX, group: 'source', windowMs: 1234 }]);

      await alarms.evaluate();

      expect(window.calls).toEqual([{ group: 'source', ms: 1234 }]);
    });

    it('has default alarms on the target: 5xx above 5 % over 3 s with 20 requests, p99 above 1 s', () => {
      expect(defaultLocalAlarms()).toEqual([
        expect.objectContaining({
          group: 'target',
          kind: '5xx-rate',
          threshold: 0.05,
          windowMs: 3000,
          minRequests: 20,
        }),
        expect.objectContaining({ group: 'target', kind: 'p99-latency', threshold: 1000 }),
      ]);
    });

    it('refuses two alarms with the same name', () => {
      expect(() => new LocalAlarms(scriptedWindow(), [FIVE_XX, FIVE_XX])).toThrow(/two local alarms/);
    });
  });

  describe('Method: tick / start', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('emits one EventBridge-shaped event per transition and none while the state holds', () => {
      const window = scriptedWindow();
      const events: AlarmStateChangeEvent[] = [];
      const alarms = new LocalAlarms(window, [FIVE_XX], {
        onStateChange: (event) => void events.push(event),
        now: () => new Date('2025-01-02T03:04:05.000Z'),
      });

      alarms.tick(); // INSUFFICIENT_DATA, as created: no change
      window.set({ requests: 40, errors5xx: 0, errorRate: 0 });
      alarms.tick(); // OK
      alarms.tick(); // OK again
      window.set({ errors5xx: 10, errorRate: 0.25 });
      alarms.tick(); // ALARM
      alarms.tick(); // ALARM again
      window.set({ requests: 3 });
      alarms.tick(); // INSUFFICIENT_DATA

      expect(events.map((event) => [event.detail.previousState.value, event.detail.state.value])).toEqual([
        ['INSUFFICIENT_DATA', 'OK'],
        ['OK', 'ALARM'],
        ['ALARM', 'INSUFFICIENT_DATA'],
      ]);
      expect(events[1]).toEqual({
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'CloudWatch Alarm State Change',
        source: 'aws.cloudwatch',
        account: '000000000000',
        time: '2025-01-02T03:04:05.000Z',
        region: 'us-east-1',
        resources: ['arn:aws:cloudwatch:us-east-1:000000000000:alarm:target-5xx'],
        detail: {
          alarmName: 'target-5xx',
          configuration: { description: expect.stringContaining('5xx rate > 5.0 %') },
          state: {
            value: 'ALARM',
            reason: expect.stringContaining('5xx rate 25.0 % > 5.0 %'),
            timestamp: '2025-01-02T03:04:05.000Z',
          },
          previousState: {
            value: 'OK',
            reason: expect.stringContaining('Threshold not crossed'),
            timestamp: '2025-01-02T03:04:05.000Z',
          },
        },
      });
      for (const event of events) expect(AlarmStateChangeSchema.safeParse(event).success).toBe(true);
    });

    it('hands an ALARM event to the alarm-event handler, which fails the open bake token', async () => {
      const listenerArn = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/x/1/2';
      const store = new MemoryRolloutStore();
      const rollout: Rollout = {
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:swing:run-1',
        startedAt: '2025-01-01T00:00:00.000Z',
        plan: { steps: [{ targetPercent: 50, bakeSeconds: 60, gate: false }] },
        startingWeights: { source: 999, target: 0 },
        lastWritten: { source: 500, target: 499 },
        stepIndex: 0,
        status: 'baking',
        steps: [],
        taskToken: 'bake-token',
        taskKind: 'bake',
      };
      await store.acquire(listenerArn, rollout);
      const failed: { token: string; error: string; cause: string }[] = [];
      const callbacks: TaskCallbackPort = {
        fail: async (token, error, cause) => {
          failed.push({ token, error, cause });
          return 'sent';
        },
        succeed: async () => 'sent',
      };
      const window = scriptedWindow({ requests: 40, errors5xx: 20, errorRate: 0.5 });
      const handled: Promise<unknown>[] = [];
      const alarms = new LocalAlarms(window, [FIVE_XX], {
        onStateChange: (event) => {
          handled.push(
            handleAlarmEvent(
              {
                listenerArn,
                watchedAlarms: ['target-5xx'],
                store,
                callbacks,
                log: { info: () => {}, warn: () => {}, error: () => {} },
              },
              event,
            ),
          );
        },
      });

      alarms.tick();
      const actions = await Promise.all(handled);

      expect(actions).toEqual(['failed-task']);
      expect(failed).toEqual([
        { token: 'bake-token', error: 'AlarmFired', cause: expect.stringContaining('target-5xx') },
      ]);
    });

    it('evaluates on its interval once started and not after it is stopped', () => {
      vi.useFakeTimers();
      const window = scriptedWindow({ requests: 40, errorRate: 0 });
      const events: AlarmStateChangeEvent[] = [];
      const alarms = new LocalAlarms(window, [FIVE_XX]);
      alarms.onStateChange = (event) => void events.push(event);

      alarms.start(100);
      vi.advanceTimersByTime(100);
      window.set({ errorRate: 0.5, errors5xx: 20 });
      vi.advanceTimersByTime(100);
      alarms.stop();
      window.set({ errorRate: 0, errors5xx: 0 });
      vi.advanceTimersByTime(1000);

      expect(events.map((event) => event.detail.state.value)).toEqual(['OK', 'ALARM']);
    });

    it('does not flap between OK and INSUFFICIENT_DATA while the count hovers about the minimum, yet fires at once', () => {
      // A thin share at a gate: the 3 s window's count wanders about the 20 requests needed, pass after pass.
      const seed = 19;
      const random = seeded(seed);
      const window = scriptedWindow();
      const events: AlarmStateChangeEvent[] = [];
      let clock = Date.parse('2025-01-02T03:04:05.000Z');
      const alarms = new LocalAlarms(window, [FIVE_XX], {
        onStateChange: (event) => void events.push(event),
        now: () => new Date(clock),
      });
      let count = 22;
      let below = 0;
      // One minute of 200 ms passes, the count a random walk between 12 and 30 (mean reverting to 21).
      for (let pass = 0; pass < 300; pass += 1) {
        count = Math.max(12, Math.min(30, count + Math.round((random() - 0.5) * 6 + (21 - count) * 0.2)));
        if (count < 20) below += 1;
        window.set({ requests: count, errors5xx: 0, errorRate: 0 });
        alarms.tick();
        clock += 200;
      }

      // The old alarm changed state at every crossing of 20; this one settles.
      expect(below, `seed ${seed}: the walk must cross the minimum often`).toBeGreaterThan(30);
      expect(events.length, `seed ${seed}`).toBeLessThanOrEqual(3);
      // An alarm still fires on the next pass, whatever the last change was.
      window.set({ requests: 22, errors5xx: 5, errorRate: 0.23 });
      alarms.tick();
      expect(events.at(-1)?.detail.state.value).toBe('ALARM');
    });

    it('goes back to INSUFFICIENT_DATA once the requests fall below half the minimum, a window after its last change', () => {
      const window = scriptedWindow({ requests: 40 });
      const events: AlarmStateChangeEvent[] = [];
      let clock = 0;
      const alarms = new LocalAlarms(window, [FIVE_XX], {
        onStateChange: (event) => void events.push(event),
        now: () => new Date(clock),
      });
      alarms.tick(); // OK
      window.set({ requests: 15 });
      clock += 5000;
      alarms.tick(); // 15 of 20: kept OK
      window.set({ requests: 4 });
      alarms.tick(); // 4: too thin, INSUFFICIENT_DATA
      window.set({ requests: 40 });
      clock += 1000;
      alarms.tick(); // within a window of the last change: kept
      clock += 2000;
      alarms.tick(); // OK

      expect(events.map((event) => event.detail.state.value)).toEqual(['OK', 'INSUFFICIENT_DATA', 'OK']);
    });

    it('keeps evaluating when a consumer throws or rejects', () => {
      const window = scriptedWindow({ requests: 40 });
      const alarms = new LocalAlarms(window, [FIVE_XX], {
        onStateChange: async () => {
          throw new Error('consumer down');
        },
      });

      expect(alarms.tick()).toHaveLength(1);
      window.set({ errorRate: 0.5 });
      alarms.onStateChange = () => {
        throw new Error('consumer down');
      };
      expect(alarms.tick()).toHaveLength(1);
    });
  });
});
