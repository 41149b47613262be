import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import {
  type Action,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  type ModifyListenerCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import type { ListenerTarget, Weights } from '#domain/types.ts';

export const LISTENER: ListenerTarget = {
  listenerArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
  sourceTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/capture-proxy/73e2d6bc24d8a067',
  targetTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/target-proxy/09e2d6bc24d8a0aa',
};

function throttled(): Error {
  const error = new Error('Rate exceeded');
  error.name = 'Throttling';
  Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
  return error;
}

/**
 * A stateful ELBv2 behind a real SDK client instance: DescribeListeners returns what ModifyListener last
 * stored, so the adapter's read-back and drift checks run against real state, in the API's own shapes.
 */
export class FakeElbv2 {
  readonly client = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
  readonly mock = mockClient(this.client);
  /** Every weight pair any ModifyListener wrote, in order. */
  readonly writes: Weights[] = [];
  /** Everything that happened to the listener, in order: Swing's writes and hand changes. */
  readonly history: { by: 'swing' | 'hand'; weights: Weights }[] = [];
  private actions: Action[];
  healthyTargets = 2;
  /** The next N ModifyListener calls fail with Throttling. */
  throttleModify = 0;
  /** Called before each ModifyListener takes effect; a test can inspect the world at that moment. */
  onModify?: (weights: Weights) => void;

  constructor(
    starting: Weights = { source: 1, target: 0 },
    readonly target: ListenerTarget = LISTENER,
  ) {
    this.actions = [
      {
        Type: 'forward',
        Order: 1,
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: target.sourceTargetGroupArn, Weight: starting.source },
            { TargetGroupArn: target.targetTargetGroupArn, Weight: starting.target },
          ],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ];
    this.mock.on(DescribeListenersCommand).callsFake((input: { ListenerArns?: string[] }) => {
      if (!input.ListenerArns?.includes(target.listenerArn)) {
        const error = new Error('One or more listeners not found');
        error.name = 'ListenerNotFoundException';
        throw error;
      }
      return {
        Listeners: [
          {
            ListenerArn: target.listenerArn,
            Port: 9200,
            Protocol: 'HTTPS',
            DefaultActions: structuredClone(this.actions),
          },
        ],
      };
    });
    this.mock.on(ModifyListenerCommand).callsFake((input: ModifyListenerCommandInput) => {
      if (this.throttleModify > 0) {
        this.throttleModify -= 1;
        throw throttled();
      }
      const weights = FakeElbv2.weightsIn(input.DefaultActions ?? [], target);
      this.onModify?.(weights);
      this.actions = structuredClone(input.DefaultActions ?? []);
      this.writes.push(weights);
      this.history.push({ by: 'swing', weights });
      return { Listeners: [] };
    });
    this.mock.on(DescribeTargetHealthCommand).callsFake(() => ({
      TargetHealthDescriptions: Array.from({ length: this.healthyTargets }, (_, i) => ({
        Target: { Id: `10.0.0.${i + 10}`, Port: 9200 },
        TargetHealth: { State: 'healthy' },
      })),
    }));
  }

  static weightsIn(actions: readonly Action[], target: ListenerTarget): Weights {
    const groups = actions.find((action) => action.Type === 'forward')?.ForwardConfig?.TargetGroups ?? [];
    const weightOf = (arn: string) => groups.find((group) => group.TargetGroupArn === arn)?.Weight ?? 0;
    return { source: weightOf(target.sourceTargetGroupArn), target: weightOf(target.targetTargetGroupArn) };
  }

  get weights(): Weights {
    return FakeElbv2.weightsIn(this.actions, this.target);
  }

  get rawActions(): Action[] {
    return structuredClone(this.actions);
  }

  /** An operator edits the listener in the console. */
  setByHand(weights: Weights): void {
    const forward = this.actions.find((action) => action.Type === 'forward');
    for (const group of forward?.ForwardConfig?.TargetGroups ?? []) {
      group.Weight =
        group.TargetGroupArn === this.target.sourceTargetGroupArn ? weights.source : weights.target;
    }
    this.history.push({ by: 'hand', weights });
  }
}

export type AlarmValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** A stateful CloudWatch: alarm states a test sets, served through DescribeAlarms. */
export class FakeCloudWatch {
  readonly client = new CloudWatchClient({ region: 'us-east-1' });
  readonly mock = mockClient(this.client);
  readonly states = new Map<string, AlarmValue>();
  /** The next N DescribeAlarms calls fail. */
  failDescribe = 0;
  describeCalls = 0;

  constructor(names: readonly string[]) {
    for (const name of names) this.states.set(name, 'OK');
    this.mock.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
      this.describeCalls += 1;
      if (this.failDescribe > 0) {
        this.failDescribe -= 1;
        const error = new Error('Internal failure');
        error.name = 'InternalFailure';
        Object.assign(error, { $fault: 'server', $metadata: { httpStatusCode: 500 } });
        throw error;
      }
      const alarms: MetricAlarm[] = (input.AlarmNames ?? [])
        .filter((name) => this.states.has(name))
        .map((name) => ({
          AlarmName: name,
          AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`,
          StateValue: this.states.get(name),
          StateReason: `Threshold Crossed: fake state ${this.states.get(name)}`,
        }));
      return { MetricAlarms: alarms, CompositeAlarms: [] };
    });
  }

  set(name: string, value: AlarmValue): void {
    this.states.set(name, value);
  }

  firing(): string[] {
    return [...this.states].filter(([, value]) => value === 'ALARM').map(([name]) => name);
  }
}
