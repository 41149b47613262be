import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationFailed } from '#domain/errors.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { SWING_PRIORITY_SPAN } from '#domain/swing-rules.ts';
import {
  CONFIG_FILE_CONTEXT,
  cronIssue,
  INLINE_CONFIG_CONTEXT,
  loadSwingConfig,
  migrationAssistantStage,
  parseSwingConfig,
  replayLagMetric,
} from '../../infra/config.ts';
import { exampleConfigInput, REPO_ROOT } from './stacks.ts';

type Json = Record<string, unknown>;

/** The issues of the ValidationFailed that `parse` throws. */
function issuesOf(parse: () => unknown) {
  try {
    parse();
  } catch (error) {
    if (error instanceof ValidationFailed) return error.issues;
    throw error;
  }
  throw new Error('expected ValidationFailed, nothing was thrown');
}

const importExample = (patch: (raw: Json) => void) => exampleConfigInput('example.config.json', patch);

describe('Function: parseSwingConfig', () => {
  it('accepts both documented examples, applying the defaults', () => {
    const imported = parseSwingConfig(exampleConfigInput('example.config.json'));
    expect(imported.mode).toBe('import');
    expect(imported.schedules.map((s) => s.name)).toEqual(['tuesday-canary', 'cutover']);
    expect(imported.scheduleDelivery).toEqual({ retryAttempts: 3, maxDelaySeconds: 900 });
    const created = parseSwingConfig(exampleConfigInput('example-create.config.json'));
    expect(created.mode).toBe('create');
    expect(created.alarms).toMatchObject({ errorRatePercent: 5, minRequests: 50, p99LatencySeconds: 2 });
    expect(created.create?.source.healthCheck).toEqual({
      path: '/',
      healthyHttpCodes: '200,401',
      intervalSeconds: 10,
    });
  });

  it('names an invalid listener ARN and shows a valid one', () => {
    const issues = issuesOf(() =>
      parseSwingConfig(importExample((raw) => ((raw.import as Json).listenerArn = 'arn:aws:elb:listener/x'))),
    );
    expect(issues).toEqual([
      {
        field: 'config.import.listenerArn',
        message: expect.stringMatching(
          /^is not a valid ARN: e\.g\. arn:aws:elasticloadbalancing:.*:listener\/app\//,
        ),
      },
    ]);
  });

  it('refuses a target group ARN given where the listener ARN belongs', () => {
    const issues = issuesOf(() =>
      parseSwingConfig(
        importExample((raw) => {
          const section = raw.import as Json;
          section.listenerArn = section.targetTargetGroupArn;
        }),
      ),
    );
    expect(issues.map((issue) => issue.field)).toEqual(['config.import.listenerArn']);
  });

  it('requires the section of the chosen mode, and the smoke endpoints in import mode', () => {
    expect(issuesOf(() => parseSwingConfig({ mode: 'import' }))).toEqual(
      expect.arrayContaining([
        { field: 'config.import', message: expect.stringContaining('is required in import mode') },
        { field: 'config.smoke.sourceEndpoint', message: expect.stringContaining(':9201') },
        { field: 'config.smoke.targetEndpoint', message: expect.stringContaining(':9202') },
      ]),
    );
    expect(issuesOf(() => parseSwingConfig({ mode: 'create' }))).toEqual(
      expect.arrayContaining([
        { field: 'config.create', message: expect.stringContaining('is required in create mode') },
        {
          field: 'config.env.region',
          message: expect.stringContaining('access logs need a concrete region'),
        },
      ]),
    );
    expect(issuesOf(() => parseSwingConfig({ mode: 'blue-green' }))[0]).toMatchObject({
      field: 'config.mode',
      message: expect.stringContaining("'import'"),
    });
  });

  it('checks each scheduled plan as preflight will, naming the schedule and the step', () => {
    const issues = issuesOf(() =>
      parseSwingConfig(
        importExample((raw) => {
          (raw.schedules as Json[])[1]!.plan = '5:5m,2:1m,100';
        }),
      ),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]!.field).toMatch(/^config\.schedules\[1\]\.plan \(step 2 "2:1m"\)$/);
  });

  it('wants exactly one of cron or at, Scheduler cron syntax, a real time zone and unique names', () => {
    const issues = issuesOf(() =>
      parseSwingConfig(
        importExample((raw) => {
          raw.schedules = [
            { name: 'both', cron: '0 2 ? * TUE *', at: '2030-01-01T00:00:00', plan: 'canary' },
            { name: 'five-fields', cron: '0 2 * * TUE', plan: 'canary' },
            { name: 'zone', at: '2030-01-01T00:00:00', timezone: 'Mars/Olympus', plan: 'canary' },
            { name: 'zone', at: '2030-01-01 00:00', plan: 'canary' },
          ];
        }),
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        {
          field: 'config.schedules[0].cron',
          message: 'set exactly one of cron (recurring) or at (one time)',
        },
        { field: 'config.schedules[1].cron', message: expect.stringContaining('has 5 fields') },
        { field: 'config.schedules[2].timezone', message: expect.stringContaining('IANA time zone') },
        { field: 'config.schedules[3].at', message: expect.stringContaining('yyyy-mm-ddThh:mm:ss') },
        { field: 'config.schedules[3].name', message: expect.stringContaining('is used twice') },
      ]),
    );
  });

  it('wants the complete secret ARN for basic auth, and the readable resources for SigV4', () => {
    const basic = issuesOf(() =>
      parseSwingConfig(
        importExample((raw) => {
          (raw.smoke as Json).auth = { type: 'basic', secretArn: 'swing/smoke' };
        }),
      ),
    );
    expect(basic).toEqual([
      { field: 'config.smoke.auth.secretArn', message: expect.stringContaining('complete') },
    ]);
    const sigv4 = issuesOf(() =>
      parseSwingConfig(
        importExample((raw) => {
          (raw.smoke as Json).auth = { type: 'sigv4', service: 'es', region: 'us-east-1' };
        }),
      ),
    );
    expect(sigv4).toEqual([{ field: 'config.smokeAccess.sigv4ResourceArns', message: expect.any(String) }]);
  });

  it('reserves concurrency for the rollback path by default; false turns it off; 0 or a fraction is refused, naming the field', () => {
    expect(parseSwingConfig(importExample(() => {})).rollbackReservedConcurrency).toBe(5);
    expect(
      parseSwingConfig(importExample((raw) => (raw.rollbackReservedConcurrency = false)))
        .rollbackReservedConcurrency,
    ).toBe(false);
    for (const bad of [0, 2.5, -1, true, '5']) {
      const issues = issuesOf(() =>
        parseSwingConfig(importExample((raw) => (raw.rollbackReservedConcurrency = bad))),
      );
      expect(issues, String(bad)).toEqual([
        {
          field: 'config.rollbackReservedConcurrency',
          message: expect.stringMatching(/false .*or a whole number .*0 would stop/),
        },
      ]);
    }
  });

  it('refuses unknown keys (a typo is not silently ignored) and inconsistent alarm settings', () => {
    const issues = issuesOf(() =>
      parseSwingConfig(
        importExample((raw) => {
          raw.alarm = {};
          (raw.alarms as Json).datapointsToAlarm = 5;
        }),
      ),
    );
    expect(issues.map((issue) => issue.field)).toEqual(expect.arrayContaining(['config']));
    expect(JSON.stringify(issues)).toContain('alarm');
  });

  it('refuses an IP or CIDR whose octets or prefix are out of range, naming each field', () => {
    const issues = issuesOf(() =>
      parseSwingConfig(
        exampleConfigInput('example-create.config.json', (raw) => {
          const create = raw.create as Json;
          create.vpcCidr = '10.42.0.0/33';
          create.allowedCidrs = ['300.0.0.0/8'];
          ((create.source as Json).targets as Json[])[1] = { ip: '999.1.1.1' };
        }),
      ),
    );
    expect(issues).toEqual([
      { field: 'config.create.allowedCidrs[0]', message: 'must be a CIDR, e.g. 10.0.0.0/8' },
      { field: 'config.create.vpcCidr', message: 'must be a CIDR, e.g. 10.42.0.0/16' },
      { field: 'config.create.source.targets[1].ip', message: 'must be an IPv4 address, e.g. 10.42.1.10' },
    ]);
  });
});

const MA_LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/MigrationAssistant-prod-eu/0123456789abcdef/fedcba9876543210';

describe('Function: parseSwingConfig (reads first)', () => {
  it('defaults to all traffic, so existing deployments keep their behaviour, with full reads-first settings', () => {
    const config = parseSwingConfig(
      importExample((raw) => {
        delete raw.traffic;
        delete raw.readsFirst;
        delete raw.replayLag;
      }),
    );
    expect(config.traffic).toBe('all');
    expect(config.readsFirst).toEqual({
      basePriority: 1000,
      scrollKeepAliveSeconds: 300,
      cutoverGate: 'manual',
      cutoverGateTimeoutSeconds: 3600,
      cutoverGateTimeoutAction: 'rollback',
      replayWaitSeconds: 1800,
      cutoverBakeSeconds: 600,
      afterCutover: 'rollback',
    });
    expect(config.readsFirst).toEqual(DEFAULT_READS_FIRST);
    expect(config.replayLag).toEqual({
      metricName: 'lagBetweenSourceAndTargetRequests',
      namespace: 'OpenSearchMigrations',
      statistic: 'Maximum',
      thresholdSeconds: 30,
      unit: 'milliseconds',
      periodSeconds: 60,
      evaluationPeriods: 3,
      missingData: 'lagging',
    });
  });

  it('resolves readsFirst to ReadsFirstSettings: rulePriority is the base priority, unset fields default', () => {
    const config = parseSwingConfig(
      importExample((raw) => {
        raw.traffic = 'reads-first';
        raw.readsFirst = { rulePriority: 40, cutoverGate: 'replay-lag', afterCutover: 'hold' };
      }),
    );
    expect(config.traffic).toBe('reads-first');
    expect(config.readsFirst).toEqual({
      ...DEFAULT_READS_FIRST,
      basePriority: 40,
      cutoverGate: 'replay-lag',
      afterCutover: 'hold',
    });
  });

  it('names each bad reads-first field and the fix', () => {
    const issues = issuesOf(() =>
      parseSwingConfig(
        importExample((raw) => {
          raw.traffic = 'writes-first';
          raw.readsFirst = {
            rulePriority: 49_999,
            cutoverGate: 'auto',
            cutoverGateTimeoutSeconds: 10,
            cutoverGateTimeoutAction: 'wait',
            afterCutover: 'pray',
            basePriority: 5,
          };
        }),
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { field: 'config.traffic', message: expect.stringContaining("'reads-first'") },
        { field: 'config.readsFirst', message: expect.stringContaining('basePriority') },
      ]),
    );
    const fields = issuesOf(() =>
      parseSwingConfig(
        importExample((raw) => {
          raw.readsFirst = {
            rulePriority: 49_999,
            cutoverGate: 'auto',
            cutoverGateTimeoutSeconds: 10,
            cutoverGateTimeoutAction: 'wait',
            afterCutover: 'pray',
          };
        }),
      ),
    );
    expect(fields).toEqual([
      {
        field: 'config.readsFirst.rulePriority',
        message: expect.stringContaining(`Swing's rules take it and the next ${SWING_PRIORITY_SPAN - 1}`),
      },
      { field: 'config.readsFirst.cutoverGate', message: expect.stringContaining("'replay-lag'") },
      {
        field: 'config.readsFirst.cutoverGateTimeoutSeconds',
        message: expect.stringContaining('at least 60'),
      },
      { field: 'config.readsFirst.cutoverGateTimeoutAction', message: expect.stringContaining("'rollback'") },
      { field: 'config.readsFirst.afterCutover', message: expect.stringContaining("'hold'") },
    ]);
  });

  it('refuses a cutover bake shorter than the scroll keep-alive: the pin would leave contexts open', () => {
    expect(
      issuesOf(() =>
        parseSwingConfig(
          importExample((raw) => (raw.readsFirst = { scrollKeepAliveSeconds: 900, cutoverBakeSeconds: 600 })),
        ),
      ),
    ).toEqual([
      {
        field: 'config.readsFirst.cutoverBakeSeconds',
        message: expect.stringContaining('at least scrollKeepAliveSeconds (900)'),
      },
    ]);
  });
});

describe('Function: parseSwingConfig (scheduled rehearsals)', () => {
  // The plan's end is spelled `then`, a key lint keeps out of object literals (a thenable): built from JSON here.
  const endingIn = (end: string) => JSON.parse(`{ "then": "${end}" }`) as Json;
  const withSchedule = (schedule: Json, traffic = 'all') =>
    importExample((raw) => {
      raw.traffic = traffic;
      raw.schedules = [{ name: 'nightly', cron: '0 2 * * ? *', timezone: 'Europe/Paris', ...schedule }];
    });

  it('takes a reads-first rehearsal: 5 % of reads for 30 minutes, then back', () => {
    const [schedule] = parseSwingConfig(
      withSchedule({ plan: '5:30m', traffic: 'reads-first', ...endingIn('restore') }),
    ).schedules;
    expect(schedule).toMatchObject({ plan: '5:30m', traffic: 'reads-first', ...endingIn('restore') });
  });

  it('refuses an all-mode rehearsal unless it accepts, on purpose, that the writes it sends stay on the target', () => {
    expect(issuesOf(() => parseSwingConfig(withSchedule({ plan: '5:30m', ...endingIn('restore') })))).toEqual(
      [
        {
          field: 'config.schedules[0].acceptWritesOnTarget',
          message: expect.stringContaining('reads-first'),
        },
      ],
    );
    expect(
      parseSwingConfig(withSchedule({ plan: '5:30m', ...endingIn('restore'), acceptWritesOnTarget: true }))
        .schedules,
    ).toHaveLength(1);
  });

  it("refuses a reads-first rollout whose reads stop short of 100 before the cutover, with the stack's default mode too", () => {
    expect(issuesOf(() => parseSwingConfig(withSchedule({ plan: '5:30m' }, 'reads-first')))).toEqual([
      {
        field: 'config.schedules[0].plan.steps[0].targetPercent',
        message: expect.stringContaining('must reach 100'),
      },
    ]);
    expect(
      issuesOf(() =>
        parseSwingConfig(withSchedule({ plan: '5:30m', traffic: 'reads-first', ...endingIn('hold') })),
      ),
    ).toEqual([{ field: 'config.schedules[0].plan.steps[0].targetPercent', message: expect.any(String) }]);
  });
});

describe('Function: replayLagMetric', () => {
  const withListener = (listenerArn: string, replayLag?: Json, traffic?: string) =>
    parseSwingConfig(
      importExample((raw) => {
        (raw.import as Json).listenerArn = listenerArn;
        if (replayLag) raw.replayLag = replayLag;
        else delete raw.replayLag;
        raw.traffic = traffic ?? 'all';
      }),
    );

  it("watches the Migration Assistant's replayer lag, in milliseconds, qualified by the stage in the ALB's name", () => {
    expect(migrationAssistantStage(MA_LISTENER)).toBe('prod-eu');
    expect(replayLagMetric(withListener(MA_LISTENER))).toEqual({
      metricName: 'lagBetweenSourceAndTargetRequests',
      namespace: 'OpenSearchMigrations',
      dimensions: { qualifier: 'prod-eu', OTelLib: 'replayer' },
      statistic: 'Maximum',
      // 30 s: the replayer publishes the lag in ms (a histogram with unit "ms").
      threshold: 30_000,
      periodSeconds: 60,
      evaluationPeriods: 3,
      missingData: 'lagging',
    });
  });

  it('takes an explicit qualifier over the stage, and dimensions over both; a threshold in seconds for a metric in seconds', () => {
    expect(replayLagMetric(withListener(MA_LISTENER, { qualifier: 'blue' }))?.dimensions).toEqual({
      qualifier: 'blue',
      OTelLib: 'replayer',
    });
    const custom = replayLagMetric(
      withListener(MA_LISTENER, {
        metricName: 'ReplicaLag',
        namespace: 'Custom/Replay',
        dimensions: { Stream: 'orders' },
        statistic: 'p99',
        thresholdSeconds: 5,
        unit: 'seconds',
        missingData: 'caught-up',
      }),
    );
    expect(custom).toMatchObject({
      dimensions: { Stream: 'orders' },
      statistic: 'p99',
      threshold: 5,
      missingData: 'caught-up',
    });
  });

  it('has no metric when nothing names the qualifier, and then refuses reads-first as the default, naming the field', () => {
    const listener = MA_LISTENER.replace('MigrationAssistant-prod-eu', 'migration-alb');
    expect(replayLagMetric(withListener(listener))).toBeUndefined();
    expect(issuesOf(() => withListener(listener, undefined, 'reads-first'))).toEqual([
      { field: 'config.replayLag.qualifier', message: expect.stringContaining('is required with traffic') },
    ]);
    expect(withListener(listener, { qualifier: 'dev' }, 'reads-first').traffic).toBe('reads-first');
  });

  it('names each bad replay-lag field', () => {
    const issues = issuesOf(() =>
      withListener(MA_LISTENER, {
        qualifier: 'dev',
        dimensions: { qualifier: 'dev' },
        statistic: 'Max',
        thresholdSeconds: 0,
        unit: 'minutes',
        periodSeconds: 45,
        missingData: 'ignore',
      }),
    );
    expect(issues).toEqual([
      { field: 'config.replayLag.statistic', message: expect.stringContaining('Maximum') },
      { field: 'config.replayLag.thresholdSeconds', message: expect.any(String) },
      { field: 'config.replayLag.unit', message: expect.stringContaining("'milliseconds'") },
      { field: 'config.replayLag.periodSeconds', message: expect.stringContaining('multiple of 60') },
      { field: 'config.replayLag.missingData', message: expect.stringContaining("'lagging'") },
    ]);
    expect(issuesOf(() => withListener(MA_LISTENER, { qualifier: 'dev', dimensions: { a: 'b' } }))).toEqual([
      { field: 'config.replayLag.qualifier', message: expect.stringContaining('set one') },
    ]);
  });
});

describe('Function: cronIssue', () => {
  it('accepts Scheduler cron and explains the two classic mistakes', () => {
    expect(cronIssue('0 2 ? * TUE *')).toBeUndefined();
    expect(cronIssue('30 1 15 * ? *')).toBeUndefined();
    expect(cronIssue('0 2 * * TUE *')).toMatch(/put '\?' in one of them/);
    expect(cronIssue('0 2 * * 2')).toMatch(/has 5 fields/);
  });
});

describe('Function: loadSwingConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swing-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const contextOf = (values: Record<string, unknown>) => (key: string) => values[key];

  it('reads the file named by swing:configFile relative to the cdk.json directory, ignoring $comment', () => {
    const config = loadSwingConfig(
      contextOf({ [CONFIG_FILE_CONTEXT]: 'infra/example.config.json' }),
      REPO_ROOT,
    );
    expect(config.import?.smokeVpc?.subnetIds).toHaveLength(2);
  });

  it('prefers an inline swing:config, as an object or as JSON text from -c', () => {
    const inline = exampleConfigInput('example-create.config.json');
    const context = { [CONFIG_FILE_CONTEXT]: 'infra/example.config.json', [INLINE_CONFIG_CONTEXT]: inline };
    expect(loadSwingConfig(contextOf(context), REPO_ROOT).mode).toBe('create');
    const asText = { ...context, [INLINE_CONFIG_CONTEXT]: JSON.stringify(inline) };
    expect(loadSwingConfig(contextOf(asText), REPO_ROOT).mode).toBe('create');
  });

  it('names the context key and the fix when nothing usable is given', () => {
    expect(issuesOf(() => loadSwingConfig(contextOf({}), dir))).toEqual([
      { field: CONFIG_FILE_CONTEXT, message: expect.stringContaining('-c swing:configFile=') },
    ]);
    expect(
      issuesOf(() => loadSwingConfig(contextOf({ [CONFIG_FILE_CONTEXT]: 'missing.json' }), dir)),
    ).toEqual([
      {
        field: CONFIG_FILE_CONTEXT,
        message: expect.stringMatching(/cannot read .*missing\.json \(ENOENT\)/),
      },
    ]);
    writeFileSync(join(dir, 'broken.json'), '{ "mode": ');
    expect(
      issuesOf(() => loadSwingConfig(contextOf({ [CONFIG_FILE_CONTEXT]: 'broken.json' }), dir))[0]!.message,
    ).toMatch(/broken\.json is not JSON/);
    expect(issuesOf(() => loadSwingConfig(contextOf({ [INLINE_CONFIG_CONTEXT]: '{nope' }), dir))).toEqual([
      { field: INLINE_CONFIG_CONTEXT, message: expect.stringContaining('is not JSON') },
    ]);
  });

  it('prefixes field names with the file they came from', () => {
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ mode: 'create', env: { region: 'us-east-1' }, create: {} }),
    );
    const [issue] = issuesOf(() => loadSwingConfig(contextOf({ [CONFIG_FILE_CONTEXT]: 'bad.json' }), dir));
    expect(issue!.field).toBe(`${join(dir, 'bad.json')}.create.certificateArn`);
  });
});
