import { readFileSync } from 'node:fs';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import {
  type Action,
  CreateRuleCommand,
  type CreateRuleCommandInput,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  type ModifyListenerCommandInput,
  ModifyRuleCommand,
  type ModifyRuleCommandInput,
  type Rule,
  type Tag,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import type { ListenerTarget, Weights } from '#domain/types.ts';

export const LISTENER: ListenerTarget = {
  listenerArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
  sourceTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/capture-proxy/73e2d6bc24d8a067',
  targetTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/target-proxy/09e2d6bc24d8a0aa',
};

/** The environment the stack gives the Lambda handlers, for loading their entry files over mocked clients. */
export const HANDLER_ENV = {
  LISTENER_ARN: LISTENER.listenerArn,
  SOURCE_TARGET_GROUP_ARN: LISTENER.sourceTargetGroupArn,
  TARGET_TARGET_GROUP_ARN: LISTENER.targetTargetGroupArn,
  TABLE_NAME: 'swing-rollouts',
  WATCHED_ALARMS: JSON.stringify(['swing-target-composite']),
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  READS_FIRST_DEFAULTS: JSON.stringify({ traffic: 'all', settings: DEFAULT_READS_FIRST }),
};

/**
 * A recorded-shape DescribeRules answer for the weighted listener: a fixed response, a forward to another
 * group, a redirect, and the default rule last (as ELBv2 lists it).
 */
export function recordedRules(): Rule[] {
  const url = new URL('../fixtures/aws/elbv2-describe-rules.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { Rules: Rule[] }).Rules;
}

function throttled(): Error {
  const error = new Error('Rate exceeded');
  error.name = 'Throttling';
  Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
  return error;
}

/** A 4xx that no retry fixes, as ELBv2 returns when the listener cannot take the action list. */
function invalidConfiguration(): Error {
  const error = new Error('The load balancer is being reconfigured');
  error.name = 'InvalidConfigurationRequest';
  Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
  return error;
}

/** A command as the fakes' clients were sent it: `args[0]` is the command (its class and its input). */
export interface SentCommand {
  readonly args: readonly [{ readonly input: unknown }];
}

type CommandClass = new (...args: never[]) => { readonly input: unknown };

/**
 * Serves an SDK client's commands with the fake's handlers, found by the command's class. It replaces the
 * client's `send` (so no middleware runs, as with aws-sdk-client-mock, which these fakes used before: its sinon
 * matching of every call against every stub took about a fifth of the fault model's time) and records each
 * call. A handler's answer is returned as it is; what it throws comes back as a rejection.
 */
export class ClientStub {
  private readonly handlers = new Map<CommandClass, (input: never) => unknown>();
  private readonly sent: SentCommand[] = [];

  constructor(client: object) {
    Object.assign(client, {
      send: (command: { readonly input: unknown }) => {
        this.sent.push({ args: [command] });
        const handler = this.handlers.get(command.constructor as CommandClass);
        try {
          return handler?.(command.input as never);
        } catch (error) {
          return Promise.reject(error);
        }
      },
    });
  }

  on<I>(command: new (...args: never[]) => { readonly input: I }) {
    return {
      callsFake: (handler: (input: I) => unknown): void => {
        this.handlers.set(command as CommandClass, handler as (input: never) => unknown);
      },
    };
  }

  /** The calls of one command, in order. */
  commandCalls(command: CommandClass): SentCommand[] {
    return this.sent.filter((call) => call.args[0] instanceof command);
  }

  /** Every call, in order. */
  calls(): SentCommand[] {
    return [...this.sent];
  }
}

/** One order for everything that happens on both fakes, so a test can tell what came before what. */
let sequence = 0;
const nextSequence = () => {
  sequence += 1;
  return sequence;
};

export type ElbOperation =
  | 'DescribeListeners'
  | 'DescribeRules'
  | 'ModifyListener'
  | 'DescribeTargetHealth'
  | 'CreateRule'
  | 'ModifyRule'
  | 'DeleteRule'
  | 'DescribeTags';

function elbError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
  return error;
}

/** What happened on the fake ELBv2, in order (`seq` is shared with FakeCloudWatch). */
export type ElbEvent =
  | {
      readonly seq: number;
      readonly kind: 'call';
      readonly operation: ElbOperation;
      readonly caller: string;
      readonly outcome: 'ok' | 'throttled' | 'failed';
      /** ModifyListener, and rule writes: the weights written (or attempted); DescribeTargetHealth: none. */
      readonly weights?: Weights;
      /** Rule calls: the rule's ARN. */
      readonly rule?: string;
      /** DescribeTargetHealth: how many healthy targets it reported. */
      readonly healthy?: number;
      /** ModifyListener and rule writes: whether the weighted forward written keeps clients on their group. */
      readonly sticky?: boolean;
    }
  /**
   * A change made from outside: weights set by hand, or the default actions replaced. `actions` is the list
   * right after it; `weights` as this fake reads them (0 for an absent group).
   */
  | { readonly seq: number; readonly kind: 'hand'; readonly actions: Action[]; readonly weights: Weights }
  | { readonly seq: number; readonly kind: 'reshape'; readonly actions: Action[]; readonly weights: Weights }
  | { readonly seq: number; readonly kind: 'health'; readonly healthy: number }
  /** A rule changed or deleted by hand. */
  | { readonly seq: number; readonly kind: 'rule-hand'; readonly rule: string; readonly weights?: Weights };

/**
 * A stateful ELBv2 behind a real SDK client instance: DescribeListeners returns what ModifyListener last
 * stored, so the adapter's read-back and drift checks run against real state, in the API's own shapes.
 */
export class FakeElbv2 {
  readonly client = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
  readonly mock = new ClientStub(this.client);
  /** Every weight pair any ModifyListener wrote, in order. */
  readonly writes: Weights[] = [];
  /** Everything that happened to the listener, in order: Swing's writes and hand changes. */
  readonly history: { by: 'swing' | 'hand'; weights: Weights }[] = [];
  /** Every call and every change made from outside, in order, with the sequence shared with FakeCloudWatch. */
  readonly log: ElbEvent[] = [];
  private actions: Action[];
  /** The listener's rules other than the default one, as DescribeRules returns them (none unless a test sets them). */
  private rules: Rule[] = [];
  /** Tags by resource ARN (rules created with Tags). */
  private readonly tags = new Map<string, Tag[]>();
  private ruleSerial = 0;
  /** Called before each rule write takes effect (CreateRule or ModifyRule), with the rule's forward weights. */
  onRuleWrite?: (rule: Rule, weights: Weights | undefined) => void;
  /** The next N rule writes (CreateRule, ModifyRule, DeleteRule) fail with Throttling. */
  throttleRules = 0;
  /** The next N rule writes fail with InvalidConfigurationRequest, an error no retry is meant for. */
  failRules = 0;
  healthyTargets = 2;
  /** The next N ModifyListener calls fail with Throttling. */
  throttleModify = 0;
  /** The next N ModifyListener calls fail with InvalidConfigurationRequest, an error no retry is meant for. */
  failModify = 0;
  /** Called before each ModifyListener takes effect; a test can inspect the world at that moment. */
  onModify?: (weights: Weights) => void;
  /**
   * Called as each call arrives, before it is served, with the name of the client that made it: a test can
   * inject a fault at exactly the Nth call of a rollout.
   */
  beforeCall?: (operation: ElbOperation, caller: string) => void;

  constructor(
    starting: Weights = { source: 1, target: 0 },
    readonly target: ListenerTarget = LISTENER,
    /** Group stickiness on the weighted forward (its duration in seconds); off by default. */
    stickySeconds?: number,
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
          TargetGroupStickinessConfig: stickySeconds
            ? { Enabled: true, DurationSeconds: stickySeconds }
            : { Enabled: false },
        },
      },
    ];
    this.serve(this.mock, 'swing');
  }

  /**
   * Another SDK client on the same listener, for a second caller (a racing rollout): its calls are logged
   * under `caller`, and its own `mock` tells exactly which commands it sent.
   */
  connect(caller: string) {
    const client = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
    const mock = new ClientStub(client);
    this.serve(mock, caller);
    return { client, mock };
  }

  private record(event: Omit<Extract<ElbEvent, { kind: 'call' }>, 'seq' | 'kind'>): void {
    this.log.push({ seq: nextSequence(), kind: 'call', ...event });
  }

  private serve(mock: ClientStub, caller: string): void {
    const target = this.target;
    mock.on(DescribeListenersCommand).callsFake((input: { ListenerArns?: string[] }) => {
      this.beforeCall?.('DescribeListeners', caller);
      if (!input.ListenerArns?.includes(target.listenerArn)) {
        this.record({ operation: 'DescribeListeners', caller, outcome: 'failed' });
        const error = new Error('One or more listeners not found');
        error.name = 'ListenerNotFoundException';
        throw error;
      }
      this.record({ operation: 'DescribeListeners', caller, outcome: 'ok' });
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
    mock.on(DescribeRulesCommand).callsFake((input: { ListenerArn?: string; RuleArns?: string[] }) => {
      this.beforeCall?.('DescribeRules', caller);
      if (input.RuleArns) {
        const found = this.rules.filter((rule) => input.RuleArns?.includes(rule.RuleArn ?? ''));
        if (found.length < input.RuleArns.length) {
          this.record({ operation: 'DescribeRules', caller, outcome: 'failed' });
          throw elbError('RuleNotFoundException', 'One or more rules not found');
        }
        this.record({ operation: 'DescribeRules', caller, outcome: 'ok' });
        return { Rules: structuredClone(found) };
      }
      if (input.ListenerArn !== target.listenerArn) {
        this.record({ operation: 'DescribeRules', caller, outcome: 'failed' });
        const error = new Error('One or more listeners not found');
        error.name = 'ListenerNotFoundException';
        throw error;
      }
      this.record({ operation: 'DescribeRules', caller, outcome: 'ok' });
      // ELBv2 lists the default rule last, with the listener's default actions.
      const defaultRule: Rule = {
        RuleArn: `${target.listenerArn.replace(':listener/', ':listener-rule/')}/9683b2d02a6cabee`,
        Priority: 'default',
        Conditions: [],
        Actions: structuredClone(this.actions),
        IsDefault: true,
      };
      return { Rules: [...structuredClone(this.rules), defaultRule] };
    });
    mock.on(ModifyListenerCommand).callsFake((input: ModifyListenerCommandInput) => {
      this.beforeCall?.('ModifyListener', caller);
      const weights = FakeElbv2.weightsIn(input.DefaultActions ?? [], target);
      if (this.throttleModify > 0) {
        this.throttleModify -= 1;
        this.record({ operation: 'ModifyListener', caller, outcome: 'throttled', weights });
        throw throttled();
      }
      if (this.failModify > 0) {
        this.failModify -= 1;
        this.record({ operation: 'ModifyListener', caller, outcome: 'failed', weights });
        throw invalidConfiguration();
      }
      this.onModify?.(weights);
      this.actions = structuredClone(input.DefaultActions ?? []);
      this.writes.push(weights);
      this.history.push({ by: 'swing', weights });
      const sticky = FakeElbv2.stickyIn(input.DefaultActions ?? []);
      this.record({ operation: 'ModifyListener', caller, outcome: 'ok', weights, sticky });
      return { Listeners: [] };
    });
    mock.on(DescribeTagsCommand).callsFake((input: { ResourceArns?: string[] }) => {
      this.beforeCall?.('DescribeTags', caller);
      this.record({ operation: 'DescribeTags', caller, outcome: 'ok' });
      return {
        TagDescriptions: (input.ResourceArns ?? []).map((arn) => ({
          ResourceArn: arn,
          Tags: structuredClone(this.tags.get(arn) ?? []),
        })),
      };
    });
    const throttleRule = (operation: ElbOperation, rule?: string) => {
      if (this.throttleRules > 0) {
        this.throttleRules -= 1;
        this.record({ operation, caller, outcome: 'throttled', ...(rule ? { rule } : {}) });
        throw throttled();
      }
      if (this.failRules > 0) {
        this.failRules -= 1;
        this.record({ operation, caller, outcome: 'failed', ...(rule ? { rule } : {}) });
        throw invalidConfiguration();
      }
    };
    mock.on(CreateRuleCommand).callsFake((input: CreateRuleCommandInput) => {
      this.beforeCall?.('CreateRule', caller);
      throttleRule('CreateRule');
      if (input.ListenerArn !== target.listenerArn)
        throw elbError('ListenerNotFoundException', 'listener not found');
      if (this.rules.some((rule) => rule.Priority === String(input.Priority))) {
        this.record({ operation: 'CreateRule', caller, outcome: 'failed' });
        throw elbError('PriorityInUseException', `Priority '${input.Priority}' is currently in use`);
      }
      this.ruleSerial += 1;
      const rule: Rule = {
        RuleArn: `${target.listenerArn.replace(':listener/', ':listener-rule/')}/${String(this.ruleSerial).padStart(16, '0')}`,
        Priority: String(input.Priority),
        Conditions: structuredClone(input.Conditions ?? []),
        Actions: structuredClone(input.Actions ?? []),
        IsDefault: false,
      };
      const weights = input.Actions ? FakeElbv2.weightsIn(input.Actions, target) : undefined;
      this.onRuleWrite?.(rule, weights);
      this.rules.push(rule);
      this.rules.sort((a, b) => Number(a.Priority) - Number(b.Priority));
      if (input.Tags) this.tags.set(rule.RuleArn ?? '', structuredClone(input.Tags));
      this.record({
        operation: 'CreateRule',
        caller,
        outcome: 'ok',
        rule: rule.RuleArn,
        ...(weights ? { weights, sticky: FakeElbv2.stickyIn(input.Actions ?? []) } : {}),
      });
      return { Rules: [structuredClone(rule)] };
    });
    mock.on(ModifyRuleCommand).callsFake((input: ModifyRuleCommandInput) => {
      this.beforeCall?.('ModifyRule', caller);
      throttleRule('ModifyRule', input.RuleArn);
      const rule = this.rules.find((candidate) => candidate.RuleArn === input.RuleArn);
      if (!rule) {
        this.record({ operation: 'ModifyRule', caller, outcome: 'failed', rule: input.RuleArn });
        throw elbError('RuleNotFoundException', 'One or more rules not found');
      }
      const weights = input.Actions ? FakeElbv2.weightsIn(input.Actions, target) : undefined;
      this.onRuleWrite?.(rule, weights);
      if (input.Actions) rule.Actions = structuredClone(input.Actions);
      if (input.Conditions) rule.Conditions = structuredClone(input.Conditions);
      this.record({
        operation: 'ModifyRule',
        caller,
        outcome: 'ok',
        rule: input.RuleArn,
        ...(weights ? { weights, sticky: FakeElbv2.stickyIn(rule.Actions ?? []) } : {}),
      });
      return { Rules: [structuredClone(rule)] };
    });
    mock.on(DeleteRuleCommand).callsFake((input: { RuleArn?: string }) => {
      this.beforeCall?.('DeleteRule', caller);
      throttleRule('DeleteRule', input.RuleArn);
      const index = this.rules.findIndex((candidate) => candidate.RuleArn === input.RuleArn);
      if (index < 0) {
        this.record({ operation: 'DeleteRule', caller, outcome: 'failed', rule: input.RuleArn });
        throw elbError('RuleNotFoundException', 'One or more rules not found');
      }
      this.rules.splice(index, 1);
      this.tags.delete(input.RuleArn ?? '');
      this.record({ operation: 'DeleteRule', caller, outcome: 'ok', rule: input.RuleArn });
      return {};
    });
    mock.on(DescribeTargetHealthCommand).callsFake(() => {
      this.beforeCall?.('DescribeTargetHealth', caller);
      const healthy = this.healthyTargets;
      this.record({ operation: 'DescribeTargetHealth', caller, outcome: 'ok', healthy });
      return {
        TargetHealthDescriptions: Array.from({ length: healthy }, (_, i) => ({
          Target: { Id: `10.0.0.${i + 10}`, Port: 9200 },
          TargetHealth: { State: 'healthy' },
        })),
      };
    });
  }

  static weightsIn(actions: readonly Action[], target: ListenerTarget): Weights {
    const groups = actions.find((action) => action.Type === 'forward')?.ForwardConfig?.TargetGroups ?? [];
    const weightOf = (arn: string) => groups.find((group) => group.TargetGroupArn === arn)?.Weight ?? 0;
    return { source: weightOf(target.sourceTargetGroupArn), target: weightOf(target.targetTargetGroupArn) };
  }

  /** Whether the weighted forward of `actions` keeps each client on the group its cookie names. */
  static stickyIn(actions: readonly Action[]): boolean {
    const forward = actions.find((action) => action.Type === 'forward');
    return forward?.ForwardConfig?.TargetGroupStickinessConfig?.Enabled === true;
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
    this.log.push({ seq: nextSequence(), kind: 'hand', actions: structuredClone(this.actions), weights });
  }

  /**
   * Another writer's ModifyListener of the weights (another rollout's own restore, say), logged as its call:
   * not a hand change of the rollout under test.
   */
  writeAs(caller: string, weights: Weights): void {
    const forward = this.actions.find((action) => action.Type === 'forward');
    for (const group of forward?.ForwardConfig?.TargetGroups ?? []) {
      group.Weight =
        group.TargetGroupArn === this.target.sourceTargetGroupArn ? weights.source : weights.target;
    }
    this.history.push({ by: 'hand', weights });
    this.record({ operation: 'ModifyListener', caller, outcome: 'ok', weights });
  }

  /** The target group's targets turn unhealthy (or come back). */
  setHealthyTargets(count: number): void {
    this.healthyTargets = count;
    this.log.push({ seq: nextSequence(), kind: 'health', healthy: count });
  }

  /** Someone adds rules to the listener (the default rule is always served; `rules` are the others). */
  setRules(rules: readonly Rule[], tags: Record<string, Tag[]> = {}): void {
    this.rules = structuredClone(rules.filter((rule) => !rule.IsDefault));
    for (const [arn, list] of Object.entries(tags)) this.tags.set(arn, structuredClone(list));
  }

  /** The listener's rules other than the default one, with their tags, as they are now. */
  get currentRules(): (Rule & { tags: Tag[] })[] {
    return this.rules.map((rule) => ({
      ...structuredClone(rule),
      tags: structuredClone(this.tags.get(rule.RuleArn ?? '') ?? []),
    }));
  }

  /** Rules tagged as Swing's (`swing:owner`). */
  get swingRules(): (Rule & { tags: Tag[] })[] {
    return this.currentRules.filter((rule) => rule.tags.some((tag) => tag.Key === 'swing:owner'));
  }

  /** The forward weights of a rule, as this fake reads them. */
  ruleWeights(rule: Rule): Weights {
    return FakeElbv2.weightsIn(rule.Actions ?? [], this.target);
  }

  /** An operator re-weights (or deletes, with `undefined`) a rule in the console. */
  setRuleByHand(ruleArn: string, weights: Weights | undefined): void {
    const index = this.rules.findIndex((rule) => rule.RuleArn === ruleArn);
    if (index < 0) return;
    if (weights === undefined) {
      this.rules.splice(index, 1);
      this.tags.delete(ruleArn);
    } else {
      for (const group of this.rules[index]?.Actions?.find((action) => action.Type === 'forward')
        ?.ForwardConfig?.TargetGroups ?? []) {
        group.Weight =
          group.TargetGroupArn === this.target.sourceTargetGroupArn ? weights.source : weights.target;
      }
    }
    this.log.push({ seq: nextSequence(), kind: 'rule-hand', rule: ruleArn, ...(weights ? { weights } : {}) });
  }

  /** Someone reconfigures the listener's default actions (a wrong group, a redirect): for shape checks. */
  setDefaultActions(actions: Action[]): void {
    this.actions = structuredClone(actions);
    this.log.push({
      seq: nextSequence(),
      kind: 'reshape',
      actions: structuredClone(actions),
      weights: FakeElbv2.weightsIn(actions, this.target),
    });
  }
}

export type AlarmValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** What happened on the fake CloudWatch, in order (`seq` is shared with FakeElbv2). */
export type CloudWatchEvent =
  | {
      readonly seq: number;
      readonly kind: 'describe';
      /** The states DescribeAlarms reported for the names asked, or `failed`. */
      readonly outcome: 'failed' | readonly AlarmValue[];
    }
  | { readonly seq: number; readonly kind: 'set'; readonly name: string; readonly value: AlarmValue };

/** A stateful CloudWatch: alarm states a test sets, served through DescribeAlarms. */
export class FakeCloudWatch {
  readonly client = new CloudWatchClient({ region: 'us-east-1' });
  readonly mock = new ClientStub(this.client);
  readonly states = new Map<string, AlarmValue>();
  /** The next N DescribeAlarms calls fail. */
  failDescribe = 0;
  describeCalls = 0;
  /** Every DescribeAlarms and every state change, in order, with the sequence shared with FakeElbv2. */
  readonly log: CloudWatchEvent[] = [];
  /** Called as each DescribeAlarms arrives, before it is served: a test can inject a fault at that call. */
  beforeCall?: (operation: 'DescribeAlarms') => void;

  constructor(names: readonly string[]) {
    for (const name of names) this.states.set(name, 'OK');
    this.mock.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
      this.beforeCall?.('DescribeAlarms');
      this.describeCalls += 1;
      if (this.failDescribe > 0) {
        this.failDescribe -= 1;
        this.log.push({ seq: nextSequence(), kind: 'describe', outcome: 'failed' });
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
      this.log.push({
        seq: nextSequence(),
        kind: 'describe',
        outcome: alarms.map((alarm) => alarm.StateValue as AlarmValue),
      });
      return { MetricAlarms: alarms, CompositeAlarms: [] };
    });
  }

  set(name: string, value: AlarmValue): void {
    this.states.set(name, value);
    this.log.push({ seq: nextSequence(), kind: 'set', name, value });
  }

  firing(): string[] {
    return [...this.states].filter(([, value]) => value === 'ALARM').map(([name]) => name);
  }
}
