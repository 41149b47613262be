import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ValidationFailed } from '#domain/errors.ts';
import { HANDLER_NAMES } from '../../infra/handler-functions.ts';
import { exampleConfig, grantedStatements, handlerFunction, handlerRoles, synthSwing } from './stacks.ts';

type Json = Record<string, unknown>;

/** The functions the contract gives the reverse-capture variables (issue22-contract.md, 1), and those that read the alarm. */
const WITH_REVERSE_ENV = ['preflight', 'rollback', 'bake', 'alarm-event', 'safety-net', 'reconciler'];
const DESCRIBE_REVERSE_LAG = ['preflight', 'rollback', 'bake', 'safety-net', 'reconciler'];
/** They create the freeze rules. */
const FREEZERS = ['rollback', 'safety-net', 'reconciler'];

const variablesOf = (template: Template, name: string) =>
  (handlerFunction(template, name).Environment as { Variables: Record<string, unknown> }).Variables;

const alarmIdOf = (template: Template) => {
  const ids = Object.keys(
    template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'Swing-dev-reverse-lag' } }),
  );
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

/** The actions a handler's role is granted on a resource that matches `resource`. */
function grantsOn(template: Template, name: string, resource: (value: unknown) => boolean): string[] {
  const role = handlerRoles(template)[name]!;
  return grantedStatements(template)
    .filter((statement) => statement.roles.includes(role) && statement.resources.some(resource))
    .flatMap((statement) => statement.actions);
}

const refersTo = (id: string) => (value: unknown) => JSON.stringify(value).includes(`"${id}"`);

function issuesOf(parse: () => unknown) {
  try {
    parse();
  } catch (error) {
    if (error instanceof ValidationFailed) return error.issues;
    throw error;
  }
  throw new Error('expected ValidationFailed, nothing was thrown');
}

describe('Reverse capture on AWS: the reverse lag alarm (infra/example-eks.config.json)', () => {
  const { template } = synthSwing(exampleConfig('example-eks.config.json'));
  const alarmId = alarmIdOf(template);

  it("watches the reverse replayer's lag under its own qualifier, drained at 1 s, no datapoint not drained", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Swing-dev-reverse-lag',
      Namespace: 'OpenSearchMigrations',
      MetricName: 'lagBetweenSourceAndTargetRequests',
      Dimensions: Match.arrayEquals([
        { Name: 'OTelLib', Value: 'replayer' },
        { Name: 'qualifier', Value: 'dev-reverse' },
      ]),
      Statistic: 'Maximum',
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'breaching',
    });
    // The forward one still watches the stage's qualifier: the two never mix.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Swing-dev-replay-lag',
      Dimensions: Match.arrayWith([{ Name: 'qualifier', Value: 'dev' }]),
    });
    expect(template.findOutputs('ReverseLagAlarm').ReverseLagAlarm?.Value).toBe('Swing-dev-reverse-lag');
  });

  it('gives the contract variables to exactly the six functions that drain or judge it', () => {
    for (const name of HANDLER_NAMES) {
      const variables = variablesOf(template, name);
      if (WITH_REVERSE_ENV.includes(name)) {
        expect(variables, name).toMatchObject({
          REVERSE_LAG_ALARM: 'Swing-dev-reverse-lag',
          REVERSE_LAG_MISSING_DATA: 'lagging',
          REVERSE_DRAIN_TIMEOUT_SECONDS: '220',
        });
      } else {
        expect(variables.REVERSE_LAG_ALARM, name).toBeUndefined();
      }
    }
  });

  it('lets those that check it describe that alarm alone, and the rollback path create the freeze rules', () => {
    for (const name of HANDLER_NAMES) {
      const onAlarm = grantsOn(template, name, refersTo(alarmId));
      expect(onAlarm, name).toEqual(DESCRIBE_REVERSE_LAG.includes(name) ? ['cloudwatch:DescribeAlarms'] : []);
      const creates = grantsOn(template, name, () => true).includes('elasticloadbalancing:CreateRule');
      expect(creates, name).toBe(FREEZERS.includes(name) || name === 'shift-weights');
    }
  });

  it('sends its return to OK (or INSUFFICIENT_DATA, which the handler judges) to alarm-event', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        resources: [{ 'Fn::GetAtt': [alarmId, 'Arn'] }],
        detail: { alarmName: ['Swing-dev-reverse-lag'], state: { value: ['OK', 'INSUFFICIENT_DATA'] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlarmEvent'), 'Arn'] } })],
    });
  });

  it("refuses a reverseCapture.lag.qualifier other than the front door's reverse replayer's", () => {
    expect(
      issuesOf(() =>
        exampleConfig('example-eks.config.json', (raw) => {
          raw.reverseCapture = { drainTimeoutSeconds: 300, lag: { qualifier: 'dev-rev' } };
        }),
      ),
    ).toEqual([
      {
        field: 'config.reverseCapture.lag.qualifier',
        message: expect.stringMatching(
          /^is dev-rev, but the front door's reverse replayer publishes under dev-reverse/,
        ),
      },
    ]);
    const agreed = synthSwing(
      exampleConfig('example-eks.config.json', (raw) => {
        raw.reverseCapture = { drainTimeoutSeconds: 300 };
      }),
    ).template;
    expect(variablesOf(agreed, 'rollback')).toMatchObject({
      REVERSE_LAG_ALARM: 'Swing-dev-reverse-lag',
      REVERSE_DRAIN_TIMEOUT_SECONDS: '300',
    });
  });

  it('is absent, with its variables and the freeze grants, without reverse capture', () => {
    const without = synthSwing(
      exampleConfig('example-eks.config.json', (raw) => {
        delete ((raw.frontDoor as Json).kubernetes as Json).reverseCapture;
      }),
    ).template;
    expect(
      without.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'Swing-dev-reverse-lag' } }),
    ).toEqual({});
    expect(without.findOutputs('ReverseLagAlarm')).toEqual({});
    for (const name of HANDLER_NAMES) {
      expect(variablesOf(without, name).REVERSE_LAG_ALARM, name).toBeUndefined();
      const creates = grantsOn(without, name, () => true).includes('elasticloadbalancing:CreateRule');
      expect(creates, name).toBe(name === 'shift-weights');
    }
  });
});

describe('Reverse capture on AWS: the config section (classic import mode, no front door)', () => {
  const classic = (reverseCapture: unknown) =>
    exampleConfig('example.config.json', (raw) => {
      raw.traffic = 'reads-first';
      raw.reverseCapture = reverseCapture;
    });

  it("takes the reverse replayer's qualifier, or other dimensions (MSK's consumer lag in seconds), and the drain bound", () => {
    const { template } = synthSwing(classic({ drainTimeoutSeconds: 240, lag: { qualifier: 'dev-reverse' } }));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('-reverse-lag$'),
      Dimensions: Match.arrayWith([{ Name: 'qualifier', Value: 'dev-reverse' }]),
      Threshold: 1000,
    });
    expect(variablesOf(template, 'rollback').REVERSE_DRAIN_TIMEOUT_SECONDS).toBe('240');
    const msk = synthSwing(
      classic({
        lag: {
          namespace: 'AWS/Kafka',
          metricName: 'EstimatedMaxTimeLag',
          dimensions: {
            'Cluster Name': 'migration-msk-cluster-dev',
            'Consumer Group': 'swing-reverse-replayer',
            Topic: 'swing-target-traffic',
          },
          unit: 'seconds',
          thresholdSeconds: 1,
          missingData: 'lagging',
        },
      }),
    ).template;
    msk.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Kafka',
      MetricName: 'EstimatedMaxTimeLag',
      Threshold: 1,
      Dimensions: Match.arrayWith([{ Name: 'Topic', Value: 'swing-target-traffic' }]),
    });
  });

  it('refuses a section that names no metric, names the forward one, or freezes too long', () => {
    expect(issuesOf(() => classic({}))).toEqual([
      {
        field: 'config.reverseCapture.lag.qualifier',
        message: expect.stringMatching(/^is required: the qualifier of the reverse replayer's metrics/),
      },
    ]);
    // The example's load balancer is MigrationAssistant-dev: the forward replayer's qualifier is dev.
    expect(issuesOf(() => classic({ lag: { qualifier: 'dev' } }))).toEqual([
      {
        field: 'config.reverseCapture.lag.qualifier',
        message: expect.stringMatching(/^names the forward replayer's lag metric \(replayLag\)/),
      },
    ]);
    expect(issuesOf(() => classic({ drainTimeoutSeconds: 901, lag: { qualifier: 'dev-reverse' } }))).toEqual([
      {
        field: 'config.reverseCapture.drainTimeoutSeconds',
        message: 'must be at most 900: writes answer 503 all that time',
      },
    ]);
  });

  it("bounds the drain by what the lag alarm can prove: by default its window, CloudWatch's delay and a recheck, plus 30 s", () => {
    // A one-minute period: an OK standing since before the freeze vouches for it 60 + 120 s later, rechecked every 10 s.
    const byDefault = synthSwing(classic({ lag: { qualifier: 'dev-reverse' } })).template;
    expect(variablesOf(byDefault, 'rollback').REVERSE_DRAIN_TIMEOUT_SECONDS).toBe('220');
    const shortPeriod = synthSwing(
      classic({ lag: { qualifier: 'dev-reverse', periodSeconds: 10 } }),
    ).template;
    expect(variablesOf(shortPeriod, 'rollback').REVERSE_DRAIN_TIMEOUT_SECONDS).toBe('170');

    // A bound the alarm could never prove a drain within refuses the config, naming the fix.
    expect(issuesOf(() => classic({ drainTimeoutSeconds: 60, lag: { qualifier: 'dev-reverse' } }))).toEqual([
      {
        field: 'config.reverseCapture.drainTimeoutSeconds',
        message: expect.stringMatching(
          /^is 60: the reverse lag alarm \(1 x 60 s\) can vouch for a drain only 190 s after the freeze .* use at least 190, leave it out \(220\), or shorten reverseCapture\.lag\.periodSeconds$/,
        ),
      },
    ]);
    expect(() => classic({ drainTimeoutSeconds: 190, lag: { qualifier: 'dev-reverse' } })).not.toThrow();
  });
});
