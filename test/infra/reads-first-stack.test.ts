import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationFailed } from '#domain/errors.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { placeholderHandler } from '../../infra/handler-functions.ts';
import { listenerRulesArn, RolloutController } from '../../infra/rollout-controller.ts';
import {
  exampleConfig,
  type GrantedStatement,
  grantedStatements,
  handlerFunction,
  handlerRoles,
  synthSwing,
} from './stacks.ts';

/**
 * Reads first in the stack: the rule actions on this listener's rules only, the replay-lag alarm (read where the
 * check runs, routed to alarm-event, never watched) and the handlers' reads-first environment.
 */

const LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/migration-alb/0123456789abcdef/fedcba9876543210';
const LISTENER_RULES =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener-rule/app/migration-alb/0123456789abcdef/fedcba9876543210/*';
const RULE_ACTIONS = ['CreateRule', 'ModifyRule', 'DeleteRule', 'AddTags'].map(
  (action) => `elasticloadbalancing:${action}`,
);
const HANDLERS_WITH_REPLAY_LAG = ['alarm-event', 'bake', 'shift-weights'];

type Json = Record<string, unknown>;

const variablesOf = (template: Template, name: string) =>
  (handlerFunction(template, name).Environment as { Variables: Record<string, unknown> }).Variables;

const logicalIdOf = (template: Template, type: string, props: Json = {}) => {
  const ids = Object.keys(template.findResources(type, props));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0]!;
};

function rolesOf(template: Template) {
  const roles = handlerRoles(template);
  const names = Object.fromEntries(Object.entries(roles).map(([name, role]) => [role, name]));
  return (statements: GrantedStatement[]) =>
    [...new Set(statements.flatMap((s) => s.roles.map((role) => names[role] ?? role)))].sort();
}

describe('Stack: reads first (import mode, the example config)', () => {
  let template: Template;
  let statements: GrantedStatement[];
  let rolesWith: (statements: GrantedStatement[]) => string[];
  const granting = (action: string) => statements.filter((s) => s.actions.includes(action));

  beforeAll(() => {
    template = synthSwing(exampleConfig('example.config.json')).template;
    statements = grantedStatements(template);
    rolesWith = rolesOf(template);
    // A synth: allow for a machine busy with the other test files.
  }, 120_000);

  describe('IAM: the rule actions on this listener only', () => {
    it('derives the rules of a listener from its ARN: listener-rule, same path, any rule id', () => {
      expect(listenerRulesArn(LISTENER)).toBe(LISTENER_RULES);
    });

    it('grants CreateRule only to shift-weights, on this listener and its rules', () => {
      const create = granting('elasticloadbalancing:CreateRule');
      expect(create.map((s) => [s.actions, s.resources])).toEqual([
        [['elasticloadbalancing:CreateRule'], [LISTENER, LISTENER_RULES]],
      ]);
      expect(rolesWith(create)).toEqual(['shift-weights']);
    });

    it("grants ModifyRule and DeleteRule on this listener's rules tagged by Swing only, to the functions that remove Swing's rules", () => {
      for (const action of ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule']) {
        const granted = granting(action);
        expect(granted.length).toBeGreaterThan(0);
        for (const statement of granted) {
          expect(statement.resources).toEqual([LISTENER_RULES]);
          // Issue 20, defect 11: only rules that carry Swing's owner tag (ELBv2 supports aws:ResourceTag on
          // its listener-rule resources); someone else's rule on the listener is out of reach.
          expect(statement.statement.Condition).toEqual({ Null: { 'aws:ResourceTag/swing:owner': 'false' } });
        }
        expect(rolesWith(granted)).toEqual([
          'finalize',
          'reconciler',
          'rollback',
          'safety-net',
          'shift-weights',
        ]);
      }
    });

    it('never grants a rule action on "*", nor beside ModifyListener or another resource', () => {
      const ruleStatements = statements.filter((s) =>
        s.actions.some((action) => RULE_ACTIONS.includes(action)),
      );
      expect(ruleStatements.length).toBeGreaterThan(0);
      for (const statement of ruleStatements) {
        expect(statement.resources).not.toContain('*');
        expect(statement.actions.every((action) => RULE_ACTIONS.includes(action))).toBe(true);
        for (const resource of statement.resources) expect([LISTENER, LISTENER_RULES]).toContain(resource);
      }
    });

    it('allows AddTags only on the rules and only within CreateRule: no role tags an existing rule', () => {
      const tagging = granting('elasticloadbalancing:AddTags');
      expect(tagging).toHaveLength(1);
      expect(tagging[0]!.statement).toEqual({
        Effect: 'Allow',
        Action: 'elasticloadbalancing:AddTags',
        Resource: LISTENER_RULES,
        Condition: { StringEquals: { 'elasticloadbalancing:CreateAction': 'CreateRule' } },
      });
      expect(rolesWith(tagging)).toEqual(['shift-weights']);
    });

    it('lets every function that finds Swing\'s rules describe rules and their tags, where AWS requires "*"', () => {
      const describeTags = granting('elasticloadbalancing:DescribeTags');
      for (const statement of describeTags) {
        expect(statement.resources).toEqual(['*']);
        expect(statement.actions).toContain('elasticloadbalancing:DescribeRules');
      }
      expect(rolesWith(describeTags)).toEqual([
        'finalize',
        'preflight',
        'reconciler',
        'rollback',
        'safety-net',
        'shift-weights',
      ]);
    });

    it('lets the restorers read the metrics, for the requests the target took since the write cutover', () => {
      expect(rolesWith(granting('cloudwatch:GetMetricData')).sort()).toEqual(
        ['check-alarms', 'reconciler', 'rollback', 'safety-net'].sort(),
      );
    });
  });

  describe('The replay-lag alarm', () => {
    it("alarms on the Migration Assistant's replayer lag: its metric, namespace, dimensions and statistic, 30 s in ms", () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Swing-replay-lag',
        Namespace: 'OpenSearchMigrations',
        MetricName: 'lagBetweenSourceAndTargetRequests',
        Dimensions: Match.arrayEquals([
          { Name: 'OTelLib', Value: 'replayer' },
          { Name: 'qualifier', Value: 'dev' },
        ]),
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 30_000,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 3,
        // Caught up only when no period of the window lagged.
        DatapointsToAlarm: 1,
        // missingData 'lagging': no datapoint is never caught up.
        TreatMissingData: 'breaching',
      });
    });

    it("treats missing data as not breaching only with missingData 'caught-up'; takes a percentile and custom dimensions", () => {
      const custom = synthSwing(
        exampleConfig('example.config.json', (raw) => {
          raw.replayLag = {
            dimensions: { Stream: 'orders' },
            statistic: 'p99',
            thresholdSeconds: 10,
            unit: 'seconds',
            periodSeconds: 300,
            evaluationPeriods: 2,
            missingData: 'caught-up',
          };
        }),
      ).template;
      custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Swing-replay-lag',
        Dimensions: [{ Name: 'Stream', Value: 'orders' }],
        ExtendedStatistic: 'p99',
        Period: 300,
        Threshold: 10,
        EvaluationPeriods: 2,
        TreatMissingData: 'notBreaching',
      });
      expect(variablesOf(custom, 'alarm-event').REPLAY_LAG_MISSING_DATA).toBe('caught-up');
    });

    it('is not a watched alarm: not in WATCHED_ALARMS, not in the rule that fails bakes, not read with the watched ones', () => {
      const lagAlarm = logicalIdOf(template, 'AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: 'Swing-replay-lag' },
      });
      expect(JSON.parse(String(variablesOf(template, 'preflight').WATCHED_ALARMS))).not.toContain(
        'Swing-replay-lag',
      );
      const watchedRule = template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { detail: { state: { value: ['ALARM'] } } } },
      });
      expect(Object.keys(watchedRule)).toHaveLength(1);
      expect(JSON.stringify(watchedRule)).not.toContain(lagAlarm);
      const readsLag = granting('cloudwatch:DescribeAlarms').filter((s) =>
        JSON.stringify(s.resources).includes(lagAlarm),
      );
      for (const statement of readsLag) {
        expect(statement.resources).toEqual([{ 'Fn::GetAtt': [lagAlarm, 'Arn'] }]);
      }
      // Where the replay-lag check runs: before a step, and when a wait for the replayer opens.
      expect(rolesWith(readsLag)).toEqual(['bake', 'shift-weights']);
    });

    it('routes its OK (and INSUFFICIENT_DATA) from this account to alarm-event, which releases a waiting step; never its ALARM', () => {
      const lagAlarm = logicalIdOf(template, 'AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: 'Swing-replay-lag' },
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.cloudwatch'],
          'detail-type': ['CloudWatch Alarm State Change'],
          account: [{ Ref: 'AWS::AccountId' }],
          resources: [{ 'Fn::GetAtt': [lagAlarm, 'Arn'] }],
          detail: { alarmName: ['Swing-replay-lag'], state: { value: ['OK', 'INSUFFICIENT_DATA'] } },
        },
        Targets: [
          Match.objectLike({
            Arn: {
              'Fn::GetAtt': [
                logicalIdOf(template, 'AWS::Lambda::Function', {
                  Properties: { Description: 'Swing alarm-event' },
                }),
                'Arn',
              ],
            },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
            DeadLetterConfig: Match.anyValue(),
          }),
        ],
      });
    });
  });

  describe('Handler environment', () => {
    it('gives preflight the traffic mode and the full reads-first settings, and nobody else', () => {
      expect(JSON.parse(String(variablesOf(template, 'preflight').READS_FIRST_DEFAULTS))).toEqual({
        traffic: 'reads-first',
        settings: DEFAULT_READS_FIRST,
        replayLagCheck: true,
      });
      for (const name of Object.keys(handlerRoles(template)).filter((n) => n !== 'preflight')) {
        expect(variablesOf(template, name).READS_FIRST_DEFAULTS, name).toBeUndefined();
      }
    });

    it('gives the replay-lag alarm and its missing-data policy to shift-weights, bake and alarm-event only', () => {
      for (const name of Object.keys(handlerRoles(template))) {
        const variables = variablesOf(template, name);
        if (HANDLERS_WITH_REPLAY_LAG.includes(name)) {
          expect(variables.REPLAY_LAG_ALARM, name).toBe('Swing-replay-lag');
          expect(variables.REPLAY_LAG_MISSING_DATA, name).toBe('lagging');
        } else {
          expect(variables.REPLAY_LAG_ALARM, name).toBeUndefined();
        }
      }
    });

    it('outputs the defaults and the alarm name for the CLI', () => {
      const outputs = template.findOutputs('*');
      expect(JSON.parse(String(outputs.ReadsFirstDefaults?.Value))).toEqual({
        traffic: 'reads-first',
        settings: DEFAULT_READS_FIRST,
      });
      expect(outputs.ReplayLagAlarm?.Value).toBe('Swing-replay-lag');
    });
  });
});

describe('Stack: scheduled rehearsals', () => {
  it('starts a scheduled rehearsal with its traffic mode and end in the input, and nothing a schedule does not say', () => {
    const { template } = synthSwing(
      exampleConfig('example.config.json', (raw) => {
        raw.schedules = [
          JSON.parse(
            '{ "name": "nightly", "cron": "0 2 * * ? *", "plan": "5:30m", "traffic": "reads-first", "then": "restore" }',
          ),
          { name: 'cutover', at: '2030-01-15T02:00:00', plan: 'canary' },
        ];
      }),
    );
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      Target: Match.objectLike({
        Input: '{"plan":"5:30m","requestedBy":"schedule:nightly","traffic":"reads-first","then":"restore"}',
      }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'at(2030-01-15T02:00:00)',
      Target: Match.objectLike({
        Input: JSON.stringify({ plan: 'canary', requestedBy: 'schedule:cutover' }),
      }),
    });
  });
});

describe('Stack: reads first without a replay-lag qualifier (traffic all)', () => {
  it('creates no replay-lag alarm, rule or variable, and keeps the traffic default all', () => {
    const { template } = synthSwing(
      exampleConfig('example.config.json', (raw) => {
        delete raw.traffic;
        delete raw.replayLag;
      }),
    );
    expect(
      Object.keys(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { AlarmName: 'Swing-replay-lag' },
        }),
      ),
    ).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('REPLAY_LAG');
    const defaults = JSON.parse(String(variablesOf(template, 'preflight').READS_FIRST_DEFAULTS));
    expect(defaults.traffic).toBe('all');
    // Preflight then refuses a reads-first start at once (test/engine/reads-first.test.ts).
    expect(defaults.replayLagCheck).toBe(false);
    expect(template.findOutputs('ReplayLagAlarm')).toEqual({});
  });
});

describe('Stack: reads first on a listener the stack creates (create mode)', () => {
  /** Evaluates the intrinsics a rule ARN is built from, with the listener's Ref standing for `listenerArn`. */
  function evaluate(node: unknown, listenerArn: string): unknown {
    if (typeof node === 'string' || typeof node === 'number') return node;
    if (Array.isArray(node)) return node.map((item) => evaluate(item, listenerArn));
    const object = node as Json;
    if ('Ref' in object) return listenerArn;
    if ('Fn::Join' in object) {
      const [delimiter, items] = object['Fn::Join'] as [string, unknown[]];
      return items.map((item) => evaluate(item, listenerArn)).join(delimiter);
    }
    if ('Fn::Split' in object) {
      const [delimiter, source] = object['Fn::Split'] as [string, unknown];
      return String(evaluate(source, listenerArn)).split(delimiter);
    }
    if ('Fn::Select' in object) {
      const [index, list] = object['Fn::Select'] as [number, unknown];
      return (evaluate(list, listenerArn) as unknown[])[index];
    }
    throw new Error(`cannot evaluate ${JSON.stringify(node)}`);
  }

  it("splits the listener's ARN in the template into its rules' ARN", () => {
    const { template } = synthSwing(exampleConfig('example-create.config.json'));
    const [deleteRule] = grantedStatements(template).filter((s) =>
      s.actions.includes('elasticloadbalancing:DeleteRule'),
    );
    expect(deleteRule!.resources).toHaveLength(1);
    const listenerRef = JSON.stringify(deleteRule!.resources[0]).match(/"Ref":"([^"]+)"/)?.[1];
    expect(listenerRef).toMatch(/^SandboxLoadBalancerWeighted/);
    expect(evaluate(deleteRule!.resources[0], LISTENER)).toBe(LISTENER_RULES);
  });
});

describe('Construct: RolloutController (reads-first props)', () => {
  const props = {
    listenerArn: LISTENER,
    sourceTargetGroupArn:
      'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/capture-proxy/0123456789abcdef',
    targetTargetGroupArn:
      'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/target-proxy/fedcba9876543210',
    smoke: { sourceEndpoint: 'https://alb.example.com:9201', targetEndpoint: 'https://alb.example.com:9202' },
    handlerFunction: placeholderHandler,
  };

  function issuesOf(build: () => unknown) {
    try {
      build();
    } catch (error) {
      if (error instanceof ValidationFailed) return error.issues;
      throw error;
    }
    throw new Error('expected ValidationFailed');
  }

  it('refuses reads-first settings a rollout could not use, naming the prop, before building anything', () => {
    const stack = new Stack(new App(), 'Other');
    expect(
      issuesOf(
        () =>
          new RolloutController(stack, 'Swing', {
            ...props,
            readsFirst: { basePriority: 0, scrollKeepAliveSeconds: 900 },
          }),
      ),
    ).toEqual([
      { field: 'readsFirst.basePriority', message: expect.stringContaining('start at 1') },
      { field: 'readsFirst.cutoverBakeSeconds', message: expect.stringContaining('scrollKeepAliveSeconds') },
    ]);
    expect(
      issuesOf(
        () =>
          new RolloutController(stack, 'Swing2', {
            ...props,
            replayLag: {
              metricName: 'lag',
              namespace: 'X',
              dimensions: {},
              statistic: 'Maximum',
              threshold: 0,
              periodSeconds: 60,
              evaluationPeriods: 3,
              missingData: 'lagging',
            },
          }),
      ).map((issue) => issue.field),
    ).toEqual(['replayLag.dimensions', 'replayLag.threshold']);
    expect(stack.node.children).toHaveLength(0);
  });
});
