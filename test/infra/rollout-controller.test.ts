import { readFileSync } from 'node:fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SAFETY_NET_MAX_DRAIN_WAIT_MS, SAFETY_NET_WAIT_SECONDS } from '#domain/engine/safety-net.ts';
import { SETTLER_FREEZE_LEASE_MS } from '#domain/engine/settle-freeze.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { RECONCILE_INTERVAL_MINUTES, RECONCILE_MAX_DRAIN_WAIT_MS } from '#domain/reconciler.ts';
import { RECORD_TABLE_KEY } from '#test/support/dynalite.ts';
import { placeholderHandler } from '../../infra/handler-functions.ts';
import { RolloutController } from '../../infra/rollout-controller.ts';
import { ASL_PATH, FUNCTION_PLACEHOLDERS } from '../../statemachine/definition.ts';
import {
  acknowledgements,
  exampleConfig,
  grantedStatements,
  handlerFunction,
  handlerRoles,
  nagViolations,
  type SynthesizedSwing,
  synthSwing,
} from './stacks.ts';

const LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/migration-alb/0123456789abcdef/fedcba9876543210';
/** The listener's rules: `:listener/` becomes `:listener-rule/`, plus `/*`. */
const LISTENER_RULES =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener-rule/app/migration-alb/0123456789abcdef/fedcba9876543210/*';
const SOURCE_TG =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/capture-proxy/0123456789abcdef';
const TARGET_TG =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/target-proxy/fedcba9876543210';
const SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:swing/smoke-AbCdEf';
const HANDLERS = [
  'preflight',
  'smoke-test',
  'shift-weights',
  'check-alarms',
  'bake',
  'alarm-event',
  'rollback',
  'finalize',
  'safety-net',
  'reconciler',
];

/** The functions an alarm, an abort, a stopped execution or a lost status event needs to put the listener back. */
const ROLLBACK_PATH = ['alarm-event', 'rollback', 'safety-net', 'reconciler'];

const logicalIdOf = (template: Template, type: string, props: Record<string, unknown> = {}) => {
  const ids = Object.keys(template.findResources(type, props));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0]!;
};

describe('Construct: RolloutController (import mode, the example config)', () => {
  let swing: SynthesizedSwing;
  let template: Template;

  beforeAll(() => {
    // The example, plus an extra watched alarm, so that both kinds of watched alarm are covered.
    swing = synthSwing(
      exampleConfig('example.config.json', (raw) => {
        (raw.alarms as Record<string, unknown>).extraWatchedAlarmNames = ['search-cluster-red'];
      }),
    );
    template = swing.template;
    // A synth: allow for a machine busy with the other test files.
  }, 120_000);

  describe('Lambda functions', () => {
    it('deploys the ten handlers on Node.js 24, arm64, each with its own role and log group', () => {
      template.resourceCountIs('AWS::Lambda::Function', 10);
      const roles = handlerRoles(template);
      expect(Object.keys(roles).sort()).toEqual([...HANDLERS].sort());
      expect(new Set(Object.values(roles)).size).toBe(10);
      for (const name of HANDLERS) {
        const fn = handlerFunction(template, name);
        expect(fn.Runtime).toBe('nodejs24.x');
        expect(fn.Architectures).toEqual(['arm64']);
        expect(fn.LoggingConfig).toEqual({ LogGroup: { Ref: expect.stringMatching(/Logs/) } });
      }
    });

    it('gives every handler the environment it reads at load time', () => {
      for (const name of HANDLERS) {
        const variables = (
          handlerFunction(template, name).Environment as { Variables: Record<string, unknown> }
        ).Variables;
        expect(variables).toMatchObject({
          LISTENER_ARN: LISTENER,
          SOURCE_TARGET_GROUP_ARN: SOURCE_TG,
          TARGET_TARGET_GROUP_ARN: TARGET_TG,
          TABLE_NAME: { Ref: expect.stringMatching(/Table/) },
          WATCHED_ALARMS: '["Swing-rollout-health","search-cluster-red"]',
          INSUFFICIENT_DATA_POLICY: 'not-firing',
          TOPIC_ARN: { Ref: expect.stringMatching(/Topic/) },
          POWERTOOLS_SERVICE_NAME: 'swing',
          POWERTOOLS_METRICS_NAMESPACE: 'Swing',
        });
        expect('SMOKE_CONFIG' in variables).toBe(name === 'smoke-test');
      }
    });

    it('lets the safety net wait out every task that can take the lock or write, within its own timeout', () => {
      const writers = ['preflight', 'shift-weights', 'rollback'].map(
        (name) => handlerFunction(template, name).Timeout as number,
      );
      // Lambda start-up is not in a function's timeout, and EventBridge times are whole seconds: 15 s margin.
      expect(SAFETY_NET_WAIT_SECONDS).toBeGreaterThanOrEqual(Math.max(...writers) + 15);
      // The wait, then a read, a write with its read-backs, a notification and the release.
      expect(handlerFunction(template, 'safety-net').Timeout as number).toBeGreaterThanOrEqual(
        SAFETY_NET_WAIT_SECONDS + 60,
      );
    });

    it('leaves a drain one invocation cannot wait out to later ones: Lambda retries the safety net, the reconciler runs after', () => {
      // One invocation: the safety net's wait, its drain wait, then the freeze's rules and the restore (35 s).
      expect(handlerFunction(template, 'safety-net').Timeout as number).toBeGreaterThanOrEqual(
        SAFETY_NET_WAIT_SECONDS + SAFETY_NET_MAX_DRAIN_WAIT_MS / 1000 + 35,
      );
      expect(handlerFunction(template, 'reconciler').Timeout as number).toBeGreaterThanOrEqual(
        RECONCILE_MAX_DRAIN_WAIT_MS / 1000 + 40,
      );
      // A freeze a settler began is its own until no invocation of either can still run (then another claims it).
      for (const name of ['safety-net', 'reconciler']) {
        expect(SETTLER_FREEZE_LEASE_MS / 1000).toBeGreaterThanOrEqual(
          handlerFunction(template, name).Timeout as number,
        );
      }
      // DrainPending fails the invocation, which Lambda runs again twice (then its scheduled runs: tested below).
      for (const name of ['safety-net', 'reconciler']) {
        const fn = logicalIdOf(template, 'AWS::Lambda::Function', {
          Properties: { Description: `Swing ${name}` },
        });
        template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
          FunctionName: { Ref: fn },
          MaximumRetryAttempts: 2,
        });
      }
    });

    it('reserves concurrency for the rollback path (alarm-event, rollback, safety-net, reconciler) and for nothing else', () => {
      for (const name of HANDLERS) {
        const reserved = handlerFunction(template, name).ReservedConcurrentExecutions;
        expect(reserved, name).toBe(ROLLBACK_PATH.includes(name) ? 5 : undefined);
      }
    });

    it('reserves none when the config turns it off, for an account whose concurrency quota is too low', () => {
      const unreserved = synthSwing(
        exampleConfig('example.config.json', (raw) => {
          raw.rollbackReservedConcurrency = false;
        }),
      ).template;
      for (const name of HANDLERS) {
        expect(handlerFunction(unreserved, name).ReservedConcurrentExecutions, name).toBeUndefined();
      }
    });

    it('passes the smoke config through as JSON the smoke-test handler parses', () => {
      const variables = (
        handlerFunction(template, 'smoke-test').Environment as { Variables: Record<string, string> }
      ).Variables;
      const smoke = JSON.parse(variables.SMOKE_CONFIG!);
      expect(smoke).toMatchObject({
        sourceEndpoint: 'https://migration-alb.internal.example.com:9201',
        targetEndpoint: 'https://migration-alb.internal.example.com:9202',
        auth: { type: 'basic', secretArn: SECRET },
      });
      expect(smoke.checks).toHaveLength(3);
    });

    it('runs the smoke-test function in the configured subnets, and only that function', () => {
      expect(handlerFunction(template, 'smoke-test').VpcConfig).toMatchObject({
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      });
      for (const name of HANDLERS.filter((handler) => handler !== 'smoke-test')) {
        expect(handlerFunction(template, name).VpcConfig).toBeUndefined();
      }
    });

    it('sends failed EventBridge-driven invocations to the dead-letter queue', () => {
      for (const name of ['alarm-event', 'safety-net', 'reconciler']) {
        expect(handlerFunction(template, name).DeadLetterConfig).toEqual({
          TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/DeadLetterQueue/), 'Arn'] },
        });
      }
    });
  });

  describe('IAM: least privilege per handler', () => {
    const rolesWith = (action: string) => {
      const roles = handlerRoles(template);
      const names = Object.fromEntries(Object.entries(roles).map(([name, role]) => [role, name]));
      return [
        ...new Set(
          grantedStatements(template)
            .filter((statement) => statement.actions.includes(action))
            .flatMap((statement) => statement.roles.map((role) => names[role] ?? role)),
        ),
      ].sort();
    };

    it('grants ModifyListener only on the listener ARN, and only to shift-weights, rollback, safety-net and reconciler', () => {
      const statements = grantedStatements(template).filter((s) =>
        s.actions.includes('elasticloadbalancing:ModifyListener'),
      );
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.actions).toEqual(['elasticloadbalancing:ModifyListener']);
        expect(statement.resources).toEqual([LISTENER]);
      }
      expect(rolesWith('elasticloadbalancing:ModifyListener')).toEqual([
        'reconciler',
        'rollback',
        'safety-net',
        'shift-weights',
      ]);
    });

    it('grants SendTaskFailure only to alarm-event, SendTaskSuccess (the wait for the replayer) only to alarm-event and bake, on this state machine only', () => {
      const stateMachine = logicalIdOf(template, 'AWS::StepFunctions::StateMachine');
      const statements = grantedStatements(template).filter((s) =>
        s.actions.some((action) => action.startsWith('states:SendTask')),
      );
      expect(statements).toHaveLength(3);
      for (const statement of statements) {
        expect(statement.actions).toHaveLength(1);
        expect(statement.resources).toEqual([{ Ref: stateMachine }]);
      }
      expect(rolesWith('states:SendTaskFailure')).toEqual(['alarm-event']);
      expect(rolesWith('states:SendTaskSuccess')).toEqual(['alarm-event', 'bake']);
    });

    it('grants the table by its ARN only: GetItem/UpdateItem to the engine, GetItem alone to alarm-event', () => {
      const table = logicalIdOf(template, 'AWS::DynamoDB::Table');
      const statements = grantedStatements(template).filter((s) =>
        s.actions.some((a) => a.startsWith('dynamodb:')),
      );
      for (const statement of statements) {
        expect(statement.resources).toEqual([{ 'Fn::GetAtt': [table, 'Arn'] }]);
      }
      expect(rolesWith('dynamodb:GetItem')).toEqual([...HANDLERS].sort());
      expect(rolesWith('dynamodb:UpdateItem')).toEqual(
        HANDLERS.filter((name) => name !== 'alarm-event').sort(),
      );
    });

    it('puts "*" only where AWS requires it: ELBv2 Describe*, CloudWatch GetMetricData, Lambda VPC interfaces, Step Functions logs and X-Ray', () => {
      const allowedOnStar =
        /^(elasticloadbalancing:Describe|cloudwatch:GetMetricData$|ec2:(Create|Describe|Delete|Assign|Unassign)|logs:|xray:)/;
      // Below a resource, not "*": this state machine's executions, the reconciler's versions, this listener's rules.
      const scopedWildcard =
        /^(states:DescribeExecution|lambda:InvokeFunction|elasticloadbalancing:(CreateRule|ModifyRule|DeleteRule|AddTags))$/;
      for (const statement of grantedStatements(template)) {
        if (!JSON.stringify(statement.resources).includes('*')) continue;
        for (const action of statement.actions) {
          if (scopedWildcard.test(action)) expect(statement.resources).not.toContain('*');
          else expect(action).toMatch(allowedOnStar);
        }
      }
    });

    it("lets only the safety net and the reconciler describe executions, and only this state machine's", () => {
      const stateMachine = logicalIdOf(template, 'AWS::StepFunctions::StateMachine');
      const statements = grantedStatements(template).filter((s) =>
        s.actions.some((action) => action.startsWith('states:Describe')),
      );
      expect(statements.map((s) => s.actions)).toEqual([
        ['states:DescribeExecution'],
        ['states:DescribeExecution'],
      ]);
      for (const statement of statements)
        expect(statement.resources).toEqual([
          {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':states:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':execution:',
                { 'Fn::GetAtt': [stateMachine, 'Name'] },
                ':*',
              ],
            ],
          },
        ]);
      expect(rolesWith('states:DescribeExecution')).toEqual(['reconciler', 'safety-net']);
    });

    it('lets the reconciler change nothing but this table and this listener, and publish to the topic and the DLQ', () => {
      const roles = handlerRoles(template);
      const granted = grantedStatements(template).filter((s) => s.roles.includes(roles.reconciler!));
      const writes = granted.flatMap((s) =>
        s.actions
          .filter((action) => !/:(Describe|Get)/.test(action) && !/^logs:|^kms:/.test(action))
          .map((action) => [action, s.resources]),
      );
      expect(writes).toEqual([
        ['dynamodb:UpdateItem', [{ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::DynamoDB::Table'), 'Arn'] }]],
        ['elasticloadbalancing:ModifyListener', [LISTENER]],
        ['sns:Publish', [{ Ref: logicalIdOf(template, 'AWS::SNS::Topic') }]],
        // Lambda sends an invocation that failed its retries to the dead-letter queue.
        ['sqs:SendMessage', [{ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue'), 'Arn'] }]],
        // Swing's own rules (reads-first), on this listener's rules only.
        ['elasticloadbalancing:ModifyRule', [LISTENER_RULES]],
        ['elasticloadbalancing:DeleteRule', [LISTENER_RULES]],
      ]);
    });

    it('never grants a wildcard action', () => {
      for (const statement of grantedStatements(template)) {
        for (const action of statement.actions) expect(action).not.toContain('*');
      }
    });

    it('reads only the watched alarms: the composite alarm and the extra names', () => {
      const composite = logicalIdOf(template, 'AWS::CloudWatch::CompositeAlarm');
      // The replay-lag alarm is read in statements of its own (test/infra/reads-first-stack.test.ts).
      const statements = grantedStatements(template).filter(
        (s) =>
          s.actions.includes('cloudwatch:DescribeAlarms') &&
          !JSON.stringify(s.resources).includes('ReplayLag'),
      );
      // preflight, shift-weights, check-alarms, bake, and finalize (before it removes the scroll pins).
      expect(statements.length).toBe(5);
      for (const statement of statements) {
        expect(statement.resources).toEqual([
          { 'Fn::GetAtt': [composite, 'Arn'] },
          {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':cloudwatch:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':alarm:search-cluster-red',
              ],
            ],
          },
        ]);
      }
      expect(rolesWith('cloudwatch:DescribeAlarms')).toEqual([
        'bake',
        'check-alarms',
        'finalize',
        'preflight',
        'shift-weights',
      ]);
    });

    it('lets the smoke-test function read the smoke secret and nothing else from Secrets Manager', () => {
      const statements = grantedStatements(template).filter((s) =>
        s.actions.some((a) => a.startsWith('secretsmanager:')),
      );
      expect(statements.map((s) => [s.actions, s.resources])).toEqual([
        [['secretsmanager:GetSecretValue'], [SECRET]],
      ]);
      expect(rolesWith('secretsmanager:GetSecretValue')).toEqual(['smoke-test']);
    });

    it('lets only finalize, safety-net and reconciler publish, to the topic, with its key', () => {
      expect(rolesWith('sns:Publish')).toEqual(['finalize', 'reconciler', 'safety-net']);
      expect(rolesWith('kms:GenerateDataKey')).toEqual(['finalize', 'reconciler', 'safety-net']);
      for (const statement of grantedStatements(template).filter((s) => s.actions.includes('sns:Publish'))) {
        expect(statement.resources).toEqual([{ Ref: logicalIdOf(template, 'AWS::SNS::Topic') }]);
      }
    });

    it('needs no PutMetricData: shift-weights emits its metric as EMF log lines', () => {
      expect(rolesWith('cloudwatch:PutMetricData')).toEqual([]);
    });

    it('attaches no managed policies: every permission is written out', () => {
      const roles = template.findResources('AWS::IAM::Role') as Record<
        string,
        { Properties: Record<string, unknown> }
      >;
      for (const role of Object.values(roles)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    });
  });

  describe('State machine', () => {
    it('deploys the one ASL file as a Standard state machine, logging every state change but no execution data (the bake and gate task tokens), with X-Ray tracing', () => {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        DefinitionS3Location: Match.objectLike({ Key: Match.stringLikeRegexp('\\.json$') }),
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: false,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
        },
        TracingConfiguration: { Enabled: true },
      });
    });

    it('substitutes every placeholder of the ASL file with its handler function ARN', () => {
      const placeholders = [...readFileSync(ASL_PATH, 'utf8').matchAll(/\$\{(\w+)\}/g)].map(
        (match) => match[1],
      );
      const [stateMachine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
      const substitutions = (
        stateMachine as { Properties: { DefinitionSubstitutions: Record<string, unknown> } }
      ).Properties.DefinitionSubstitutions;
      expect(Object.keys(substitutions).sort()).toEqual([...new Set(placeholders)].sort());
      const roles = handlerRoles(template);
      for (const [placeholder, handler] of Object.entries(FUNCTION_PLACEHOLDERS)) {
        const functionId = (substitutions[placeholder] as { 'Fn::GetAtt': [string, string] })[
          'Fn::GetAtt'
        ][0];
        const fn = template.findResources('AWS::Lambda::Function')[functionId] as {
          Properties: { Role: { 'Fn::GetAtt': [string] } };
        };
        expect(fn.Properties.Role['Fn::GetAtt'][0]).toBe(roles[handler]);
      }
    });

    it('may invoke exactly the seven task functions, by unqualified ARN (the bake task token included)', () => {
      const stateMachineRole = (
        Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
          Properties: { RoleArn: { 'Fn::GetAtt': [string, string] } };
        }
      ).Properties.RoleArn['Fn::GetAtt'][0];
      const statements = grantedStatements(template).filter(
        (s) => s.actions.includes('lambda:InvokeFunction') && s.roles.includes(stateMachineRole),
      );
      expect(statements).toHaveLength(1);
      const invoked = (statements[0]!.resources as { 'Fn::GetAtt': [string, string] }[]).map(
        (r) => r['Fn::GetAtt'],
      );
      expect(invoked).toHaveLength(7);
      const roles = handlerRoles(template);
      const functions = template.findResources('AWS::Lambda::Function') as Record<
        string,
        { Properties: { Role: { 'Fn::GetAtt': [string] } } }
      >;
      const invokedHandlers = invoked.map(([id, attribute]) => {
        expect(attribute).toBe('Arn');
        const role = functions[id]!.Properties.Role['Fn::GetAtt'][0];
        return Object.entries(roles).find(([, candidate]) => candidate === role)![0];
      });
      expect(invokedHandlers.sort()).toEqual(
        ['bake', 'check-alarms', 'finalize', 'preflight', 'rollback', 'shift-weights', 'smoke-test'].sort(),
      );
    });
  });

  describe('Alarms', () => {
    const dimensions = [
      { Name: 'LoadBalancer', Value: 'app/migration-alb/0123456789abcdef' },
      { Name: 'TargetGroup', Value: 'targetgroup/target-proxy/fedcba9876543210' },
    ];

    it('alarms on the target 5xx rate as metric math with a minimum request count', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Swing-target-5xx-rate',
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'IF(treq >= 50, 100 * FILL(terr, 0) / treq, 0)', ReturnData: true }),
          Match.objectLike({
            Id: 'terr',
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({ MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: dimensions }),
            }),
          }),
          Match.objectLike({
            Id: 'treq',
            MetricStat: Match.objectLike({
              Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: dimensions },
              Stat: 'Sum',
            }),
          }),
        ]),
      });
    });

    it('alarms on the target p99 response time and on any unhealthy target', () => {
      const single = (metricName: string, stat: string) => [
        Match.objectLike({
          MetricStat: {
            Metric: { Namespace: 'AWS/ApplicationELB', MetricName: metricName, Dimensions: dimensions },
            Period: 60,
            Stat: stat,
          },
          ReturnData: true,
        }),
      ];
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Swing-target-p99-latency',
        Metrics: single('TargetResponseTime', 'p99'),
        Threshold: 2,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Swing-target-unhealthy-hosts',
        Metrics: single('UnHealthyHostCount', 'Maximum'),
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('alarms on connections the load balancer could not open to the target, with the minimum request count', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Swing-target-connection-errors',
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([
          Match.objectLike({
            Expression: 'IF(treq >= 50, 100 * FILL(tconn, 0) / treq, 0)',
            ReturnData: true,
          }),
          Match.objectLike({
            Id: 'tconn',
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'AWS/ApplicationELB',
                MetricName: 'TargetConnectionErrorCount',
                Dimensions: dimensions,
              },
              Stat: 'Sum',
            }),
          }),
          Match.objectLike({
            Id: 'treq',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'RequestCount' }) }),
          }),
        ]),
      });
    });

    it('alarms when the target error rate exceeds the source error rate by the configured points', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Swing-target-vs-source-5xx',
        Threshold: 2,
        Metrics: Match.arrayWith([
          Match.objectLike({
            Expression: 'IF(treq >= 50, 100 * FILL(terr, 0) / treq - 100 * FILL(serr, 0) / FILL(sreq, 1), 0)',
          }),
          Match.objectLike({
            Id: 'sreq',
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({
                Dimensions: [
                  { Name: 'LoadBalancer', Value: 'app/migration-alb/0123456789abcdef' },
                  { Name: 'TargetGroup', Value: 'targetgroup/capture-proxy/0123456789abcdef' },
                ],
              }),
            }),
          }),
        ]),
      });
    });

    it('combines the five into the one composite alarm the rollout watches', () => {
      template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 1);
      const [composite] = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm')) as {
        Properties: { AlarmName: string; AlarmRule: unknown };
      }[];
      expect(composite!.Properties.AlarmName).toBe('Swing-rollout-health');
      const rule = JSON.stringify(composite!.Properties.AlarmRule);
      for (const id of ['ErrorRate', 'Latency', 'UnhealthyHosts', 'RelativeErrorRate', 'ConnectionErrors']) {
        expect(rule).toMatch(new RegExp(`ControllerAlarms${id}[0-9A-F]{8}`));
      }
      expect(rule.match(/ OR /g)).toHaveLength(4);
    });
  });

  describe('Events and schedules', () => {
    it('routes INSUFFICIENT_DATA too when the policy counts it as firing, so a dead target rolls back as fast', () => {
      const firing = synthSwing(
        exampleConfig('example.config.json', (raw) => {
          raw.insufficientDataPolicy = 'firing';
        }),
      ).template;
      firing.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({
          source: ['aws.cloudwatch'],
          detail: Match.objectLike({ state: { value: ['ALARM', 'INSUFFICIENT_DATA'] } }),
        }),
      });
      expect(
        (handlerFunction(firing, 'alarm-event').Environment as { Variables: Record<string, string> })
          .Variables.INSUFFICIENT_DATA_POLICY,
      ).toBe('firing');
    });

    it('routes ALARM of every watched alarm, from this account only, to the alarm-event function, with retries and a dead-letter queue', () => {
      const composite = logicalIdOf(template, 'AWS::CloudWatch::CompositeAlarm');
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.cloudwatch'],
          'detail-type': ['CloudWatch Alarm State Change'],
          account: [{ Ref: 'AWS::AccountId' }],
          // An alarm of the same name in another account or region is not one of ours.
          resources: [
            { 'Fn::GetAtt': [composite, 'Arn'] },
            {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudwatch:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':alarm:search-cluster-red',
                ],
              ],
            },
          ],
          detail: { alarmName: ['Swing-rollout-health', 'search-cluster-red'], state: { value: ['ALARM'] } },
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

    it("routes this state machine's ABORTED, FAILED and TIMED_OUT executions to the safety net", () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: {
            stateMachineArn: [{ Ref: logicalIdOf(template, 'AWS::StepFunctions::StateMachine') }],
            status: ['ABORTED', 'FAILED', 'TIMED_OUT'],
          },
        },
        Targets: [
          Match.objectLike({
            Arn: {
              'Fn::GetAtt': [
                logicalIdOf(template, 'AWS::Lambda::Function', {
                  Properties: { Description: 'Swing safety-net' },
                }),
                'Arn',
              ],
            },
          }),
        ],
      });
    });

    it('starts scheduled rollouts (cron and one-time, in their time zones) with the plan, retries and a DLQ', () => {
      const stateMachine = { Ref: logicalIdOf(template, 'AWS::StepFunctions::StateMachine') };
      // The two rollouts, and the reconciler's.
      template.resourceCountIs('AWS::Scheduler::Schedule', 3);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 2 ? * TUE *)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        State: 'DISABLED',
        Target: Match.objectLike({
          Arn: stateMachine,
          Input: JSON.stringify({ plan: 'canary', requestedBy: 'schedule:tuesday-canary' }),
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 900 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue'), 'Arn'] } },
        }),
      });
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'at(2030-01-15T02:00:00)',
        ScheduleExpressionTimezone: 'America/New_York',
        Target: Match.objectLike({
          Input: JSON.stringify({ plan: '5:5m,25:10m,50:10m!,100', requestedBy: 'schedule:cutover' }),
        }),
      });
    });

    it('gives the scheduler a role that may start executions of this state machine only', () => {
      const stateMachine = logicalIdOf(template, 'AWS::StepFunctions::StateMachine');
      const statements = grantedStatements(template).filter((s) =>
        s.actions.includes('states:StartExecution'),
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]!.resources).toEqual([{ Ref: stateMachine }]);
      const role = template.findResources('AWS::IAM::Role')[statements[0]!.roles[0]!] as {
        Properties: { AssumeRolePolicyDocument: { Statement: { Principal: unknown }[] } };
      };
      expect(role.Properties.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      });
      // One role for the declared schedules and for `swing schedule add`, which finds it in the outputs.
      const roleArn = { 'Fn::GetAtt': [statements[0]!.roles[0]!, 'Arn'] };
      const rolloutSchedules = template.findResources('AWS::Scheduler::Schedule', {
        Properties: { Target: { Arn: { Ref: stateMachine } } },
      });
      expect(Object.keys(rolloutSchedules)).toHaveLength(2);
      for (const schedule of Object.values(rolloutSchedules)) {
        expect(
          (schedule as { Properties: { Target: { RoleArn: unknown } } }).Properties.Target.RoleArn,
        ).toEqual(roleArn);
      }
      template.hasOutput('SchedulerRoleArn', { Value: roleArn });
      const sendsToDlq = grantedStatements(template).filter((s) => s.actions.includes('sqs:SendMessage'));
      expect(sendsToDlq.some((s) => s.roles.includes(statements[0]!.roles[0]!))).toBe(true);
    });

    it('runs the reconciler every few minutes, with a role that may invoke the reconciler only', () => {
      const reconciler = logicalIdOf(template, 'AWS::Lambda::Function', {
        Properties: { Description: 'Swing reconciler' },
      });
      const schedules = template.findResources('AWS::Scheduler::Schedule', {
        Properties: { Target: { Arn: { 'Fn::GetAtt': [reconciler, 'Arn'] } } },
      }) as Record<string, { Properties: { Target: { RoleArn: { 'Fn::GetAtt': [string, string] } } } }>;
      expect(Object.keys(schedules)).toHaveLength(1);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: `rate(${RECONCILE_INTERVAL_MINUTES} minutes)`,
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [reconciler, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: RECONCILE_INTERVAL_MINUTES * 60 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue'), 'Arn'] } },
        }),
      });
      expect(RECONCILE_INTERVAL_MINUTES).toBeLessThanOrEqual(10);
      const role = Object.values(schedules)[0]!.Properties.Target.RoleArn['Fn::GetAtt'][0];
      const granted = grantedStatements(template).filter((s) => s.roles.includes(role));
      expect(granted.map((s) => [s.actions, s.resources])).toEqual([
        [
          ['lambda:InvokeFunction'],
          [
            { 'Fn::GetAtt': [reconciler, 'Arn'] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [reconciler, 'Arn'] }, ':*']] },
          ],
        ],
        [['sqs:SendMessage'], [{ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue'), 'Arn'] }]],
      ]);
    });

    it('alarms to the topic when anything lands in the dead-letter queue', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Swing-undelivered-events',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        AlarmActions: [{ Ref: logicalIdOf(template, 'AWS::SNS::Topic') }],
      });
    });
  });

  describe('Table, topic, dashboard, outputs', () => {
    it('keeps the lock and history in an on-demand table keyed by listenerArn, with PITR, retained', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [{ AttributeName: 'listenerArn', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'listenerArn', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
        DeletionPolicy: 'Retain',
      });
    });

    it('deploys the key schema the store tests create their dynalite table with', () => {
      const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));

      expect(
        tables.map(({ Properties }) => ({
          KeySchema: Properties.KeySchema,
          AttributeDefinitions: Properties.AttributeDefinitions,
        })),
      ).toEqual([RECORD_TABLE_KEY]);
    });

    it('encrypts the outcome topic with a rotating key, refuses plain HTTP, and subscribes the emails', () => {
      const key = logicalIdOf(template, 'AWS::KMS::Key');
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'search-migration-oncall@example.com',
      });
    });

    it('lets CloudWatch publish the alarms that act on the topic, from this account and those alarms only', () => {
      const undelivered = logicalIdOf(template, 'AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: 'Swing-undelivered-events' },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: logicalIdOf(template, 'AWS::SNS::Topic') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchAlarmsToPublish',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: logicalIdOf(template, 'AWS::SNS::Topic') },
              Condition: {
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                ArnLike: { 'aws:SourceArn': [{ 'Fn::GetAtt': [undelivered, 'Arn'] }] },
              },
            },
          ]),
        },
      });
    });

    it('charts the target weight that shift-weights emits, per-side traffic, errors, p99, alarms and executions', () => {
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as {
        Properties: { DashboardName: string; DashboardBody: unknown };
      }[];
      expect(dashboard!.Properties.DashboardName).toBe('Swing-rollouts');
      const body = JSON.stringify(dashboard!.Properties.DashboardBody);
      // Powertools Metrics adds the service dimension; the widget must name both to find the metric.
      expect(body).toContain(
        `[\\"Swing\\",\\"TargetWeightPercent\\",\\"Listener\\",\\"${LISTENER}\\",\\"service\\",\\"swing\\"`,
      );
      for (const text of [
        'RequestCount',
        'HTTPCode_Target_5XX_Count',
        'TargetResponseTime',
        'p99',
        'alarm',
        'ExecutionsStarted',
        'ExecutionsFailed',
        'ExecutionsAborted',
        'ExecutionsTimedOut',
      ]) {
        expect(body).toContain(text);
      }
    });

    it('outputs the state machine ARN, table name, topic ARN and dashboard name', () => {
      template.hasOutput('StateMachineArn', {
        Value: { Ref: logicalIdOf(template, 'AWS::StepFunctions::StateMachine') },
      });
      template.hasOutput('TableName', { Value: { Ref: logicalIdOf(template, 'AWS::DynamoDB::Table') } });
      template.hasOutput('TopicArn', { Value: { Ref: logicalIdOf(template, 'AWS::SNS::Topic') } });
      template.hasOutput('DashboardName', {
        Value: { Ref: logicalIdOf(template, 'AWS::CloudWatch::Dashboard') },
      });
    });
  });

  it('outputs the listener, its target groups and the watch list for the operator CLI', () => {
    template.hasOutput('ListenerArn', { Value: Match.stringLikeRegexp(':listener/app/migration-alb/') });
    template.hasOutput('SourceTargetGroupArn', { Value: Match.stringLikeRegexp(':targetgroup/') });
    template.hasOutput('TargetTargetGroupArn', { Value: Match.stringLikeRegexp(':targetgroup/') });
    const watched = JSON.stringify(template.findOutputs('WatchedAlarms'));
    expect(watched).toContain('Swing-rollout-health');
    template.hasOutput('ScheduleDlqArn', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } });
  });

  it('synthesizes with no context lookup (offline, no credentials)', () => {
    expect(swing.missingContext).toEqual([]);
  });

  describe('cdk-nag AwsSolutions', () => {
    it('reports no errors and no warnings', () => {
      expect(
        nagViolations(swing.app).map(
          (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`,
        ),
      ).toEqual([]);
    });

    it('has a written reason for every acknowledged rule', () => {
      const acknowledged = acknowledgements(swing.app).filter((entry) => entry.id.includes('AwsSolutions'));
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const entry of acknowledged)
        expect(entry.reason.length, `${entry.path} ${entry.id}`).toBeGreaterThan(40);
    });

    it('would catch a finding: an unencrypted queue added to the app fails the pack', () => {
      const stack = new Stack(swing.app, 'NagProbe');
      new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
      const rules = nagViolations(stack).map((violation) => violation.ruleName);
      expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS4']));
    });
  });
});

describe('Construct: RolloutController (used by another CDK app)', () => {
  const props = {
    listenerArn: LISTENER,
    sourceTargetGroupArn: SOURCE_TG,
    targetTargetGroupArn: TARGET_TG,
    smoke: { sourceEndpoint: 'https://alb.example.com:9201', targetEndpoint: 'https://alb.example.com:9202' },
    handlerFunction: placeholderHandler,
  };

  it('refuses a scheduled plan that preflight would refuse, naming the schedule and the step', () => {
    const stack = new Stack(new App(), 'Other');
    const build = () =>
      new RolloutController(stack, 'Swing', {
        ...props,
        schedules: [
          {
            name: 'bad',
            expression: scheduler.ScheduleExpression.rate(Duration.days(1)),
            plan: '50:5m,25:5m',
          },
        ],
      });
    expect(build).toThrow(ValidationFailed);
    expect(build).toThrow(/schedules\[0\]\.plan/);
  });

  it('refuses a reserved concurrency of 0, which would stop the rollback path, before creating anything', () => {
    const stack = new Stack(new App(), 'Host');
    expect(() => new RolloutController(stack, 'Swing', { ...props, rollbackReservedConcurrency: 0 })).toThrow(
      /rollbackReservedConcurrency: .*0 would stop/,
    );
    expect(stack.node.children).toHaveLength(0);
  });

  it('refuses a listener ARN that is not one, before creating anything', () => {
    const stack = new Stack(new App(), 'Other');
    expect(
      () =>
        new RolloutController(stack, 'Swing', { ...props, listenerArn: 'arn:aws:elasticloadbalancing:x' }),
    ).toThrow(/listenerArn: is 'arn:aws:elasticloadbalancing:x', not a valid ARN/);
    expect(stack.node.findAll().filter((c) => c.node.id === 'Table')).toHaveLength(0);
  });

  it('refuses a smoke config the handler would refuse at cold start', () => {
    const stack = new Stack(new App(), 'Other');
    expect(
      () =>
        new RolloutController(stack, 'Swing', {
          ...props,
          smoke: { ...props.smoke, sourceEndpoint: 'not a url' },
        }),
    ).toThrow(/smoke\.sourceEndpoint/);
  });
});
