import { describe, expect, it } from 'vitest';
import { MAX_RULE_PRIORITY, readsFirstDefaultsFromEnv, replayLagFromEnv } from '#commons/config.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import {
  ALB_RULE_LIMITS,
  ALL_SWING_RULES,
  SWING_PRIORITY_SPAN,
  swingPriorities,
} from '#domain/swing-rules.ts';

function issuesOf(parse: () => unknown) {
  try {
    parse();
  } catch (error) {
    if (error instanceof ValidationFailed) return error.issues;
    throw error;
  }
  throw new Error('expected ValidationFailed, nothing was thrown');
}

const defaults = (value: unknown) => ({ READS_FIRST_DEFAULTS: JSON.stringify(value) });

describe('Function: readsFirstDefaultsFromEnv', () => {
  it('reads the traffic mode and the full settings the stack wrote', () => {
    const settings = { ...DEFAULT_READS_FIRST, basePriority: 20, cutoverGate: 'replay-lag' };
    expect(readsFirstDefaultsFromEnv(defaults({ traffic: 'reads-first', settings }))).toEqual({
      traffic: 'reads-first',
      settings,
    });
  });

  it('refuses a missing variable, naming it and who sets it', () => {
    expect(issuesOf(() => readsFirstDefaultsFromEnv({}))).toEqual([
      { field: 'READS_FIRST_DEFAULTS', message: expect.stringContaining('the CDK stack does') },
    ]);
  });

  it('refuses text that is not JSON, naming the variable, the expected shape and the fix', () => {
    expect(issuesOf(() => readsFirstDefaultsFromEnv({ READS_FIRST_DEFAULTS: 'reads-first' }))).toEqual([
      {
        field: 'READS_FIRST_DEFAULTS',
        message: expect.stringMatching(/^is not JSON \(.*\): it must be \{ "traffic".*redeploy$/),
      },
    ]);
  });

  it('names each bad field inside the JSON', () => {
    const issues = issuesOf(() =>
      readsFirstDefaultsFromEnv(
        defaults({
          traffic: 'writes-first',
          settings: { ...DEFAULT_READS_FIRST, afterCutover: 'pray', rulePriority: 5 },
        }),
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { field: 'READS_FIRST_DEFAULTS.traffic', message: expect.stringContaining("'reads-first'") },
        {
          field: 'READS_FIRST_DEFAULTS.settings',
          message: expect.stringContaining("unknown key 'rulePriority'"),
        },
      ]),
    );
  });

  it('refuses a base priority whose last rule would pass ALB highest priority', () => {
    // The freeze's rules included: the last of them takes ALB's highest priority.
    expect(Math.max(...swingPriorities(MAX_RULE_PRIORITY, ALL_SWING_RULES))).toBe(
      ALB_RULE_LIMITS.maxPriority,
    );
    const settings = { ...DEFAULT_READS_FIRST, basePriority: MAX_RULE_PRIORITY + 1 };
    expect(issuesOf(() => readsFirstDefaultsFromEnv(defaults({ traffic: 'all', settings })))).toEqual([
      {
        field: 'READS_FIRST_DEFAULTS.settings.basePriority',
        message: expect.stringContaining(`Swing's rules take it and the next ${SWING_PRIORITY_SPAN - 1}`),
      },
    ]);
  });

  it('refuses a cutover bake shorter than the scroll keep-alive: the pin would leave open contexts', () => {
    const settings = {
      ...DEFAULT_READS_FIRST,
      scrollKeepAliveSeconds: 900,
      cutoverBakeSeconds: 600,
    };
    expect(issuesOf(() => readsFirstDefaultsFromEnv(defaults({ traffic: 'all', settings })))).toEqual([
      {
        field: 'READS_FIRST_DEFAULTS.settings.cutoverBakeSeconds',
        message: expect.stringContaining('at least scrollKeepAliveSeconds (900)'),
      },
    ]);
  });
});

describe('Function: replayLagFromEnv', () => {
  it('reads the alarm name and the missing-data policy', () => {
    expect(
      replayLagFromEnv({ REPLAY_LAG_ALARM: 'Swing-replay-lag', REPLAY_LAG_MISSING_DATA: 'caught-up' }),
    ).toEqual({ alarmName: 'Swing-replay-lag', missingData: 'caught-up' });
  });

  it('treats missing data as lagging when the policy is not given: fail closed', () => {
    expect(replayLagFromEnv({ REPLAY_LAG_ALARM: 'Swing-replay-lag' })?.missingData).toBe('lagging');
  });

  it('is undefined when the stack has no replay-lag alarm', () => {
    expect(replayLagFromEnv({})).toBeUndefined();
  });

  it('refuses an unknown missing-data policy and an empty alarm name, naming the variable', () => {
    expect(
      issuesOf(() => replayLagFromEnv({ REPLAY_LAG_ALARM: 'a', REPLAY_LAG_MISSING_DATA: 'ignore' })),
    ).toEqual([{ field: 'REPLAY_LAG_MISSING_DATA', message: expect.stringContaining("'lagging'") }]);
    expect(issuesOf(() => replayLagFromEnv({ REPLAY_LAG_ALARM: ' ' }))).toEqual([
      { field: 'REPLAY_LAG_ALARM', message: expect.stringContaining('is empty') },
    ]);
  });
});
