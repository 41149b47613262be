import { describe, expect, it } from 'vitest';
import { reverseCaptureFromEnv } from '#commons/config.ts';
import { ValidationFailed } from '#domain/errors.ts';
import {
  ALL_SWING_RULES,
  albLimitBreaches,
  FREEZE_RESPONSE,
  FREEZE_RULE_SET,
  SWING_RULE_SET,
} from '#domain/swing-rules.ts';

function issuesOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationFailed) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationFailed');
}

describe('Function: reverseCaptureFromEnv', () => {
  it('reads the reverse lag alarm, its missing-data policy and the drain timeout', () => {
    expect(
      reverseCaptureFromEnv({
        REVERSE_LAG_ALARM: 'Swing-reverse-lag',
        REVERSE_LAG_MISSING_DATA: 'caught-up',
        REVERSE_DRAIN_TIMEOUT_SECONDS: '120',
      }),
    ).toEqual({ lagAlarm: 'Swing-reverse-lag', missingData: 'caught-up', drainTimeoutSeconds: 120 });
  });

  it('defaults to missing data lagging (fail closed) and a 60 s drain', () => {
    expect(reverseCaptureFromEnv({ REVERSE_LAG_ALARM: 'a' })).toEqual({
      lagAlarm: 'a',
      missingData: 'lagging',
      drainTimeoutSeconds: 60,
    });
  });

  it('is undefined (not configured) when the stack names no reverse lag alarm', () => {
    expect(reverseCaptureFromEnv({ REVERSE_DRAIN_TIMEOUT_SECONDS: '30' })).toBeUndefined();
  });

  it('refuses bad values, naming each variable', () => {
    expect(
      issuesOf(() =>
        reverseCaptureFromEnv({
          REVERSE_LAG_ALARM: ' ',
          REVERSE_LAG_MISSING_DATA: 'ignore',
          REVERSE_DRAIN_TIMEOUT_SECONDS: '1.5',
        }),
      ),
    ).toEqual([
      { field: 'REVERSE_LAG_ALARM', message: expect.stringContaining('is empty') },
      { field: 'REVERSE_LAG_MISSING_DATA', message: expect.stringContaining("'lagging'") },
      { field: 'REVERSE_DRAIN_TIMEOUT_SECONDS', message: expect.stringContaining('from 5 to 900') },
    ]);
    expect(
      issuesOf(() => reverseCaptureFromEnv({ REVERSE_LAG_ALARM: 'a', REVERSE_DRAIN_TIMEOUT_SECONDS: '901' })),
    ).toEqual([{ field: 'REVERSE_DRAIN_TIMEOUT_SECONDS', message: expect.stringContaining("'901'") }]);
  });
});

describe('Constant: FREEZE_RULE_SET', () => {
  it('fits ALB limits', () => {
    for (const spec of FREEZE_RULE_SET) {
      expect({ [spec.name]: albLimitBreaches(spec) }).toEqual({ [spec.name]: [] });
    }
  });

  it('stands around the reads-first set, at priorities of its own: the writes the pins match before them', () => {
    const offsetOf = (name: string) =>
      ALL_SWING_RULES.find((spec) => spec.name === name)?.offset ?? Number.NaN;
    const ofRole = (role: string) =>
      SWING_RULE_SET.filter((spec) => spec.role === role).map((spec) => spec.offset);
    const before = ['freeze-methods', 'freeze-dot-segments', 'freeze-encoded-dots', 'freeze-by-query'];
    for (const name of [...before, 'freeze-pinned-ids']) {
      expect(offsetOf(name), name).toBeLessThan(Math.min(...ofRole('pin')));
    }
    // freeze-writes before writes-to-source (which sends its POSTs to the source), after the pins.
    expect(offsetOf('freeze-writes')).toBeGreaterThan(Math.max(...ofRole('pin')));
    expect(offsetOf('freeze-writes')).toBeLessThan(Math.min(...ofRole('writes')));
    // The POST reads' forwards and the catch-all after the read rules, the catch-all last.
    for (const name of ['freeze-reads-search', 'freeze-reads-lookups', 'freeze-post']) {
      expect(offsetOf(name), name).toBeGreaterThan(Math.max(...ofRole('reads')));
    }
    expect(offsetOf('freeze-post')).toBe(Math.max(...ALL_SWING_RULES.map((spec) => spec.offset)));
    const offsets = ALL_SWING_RULES.map((spec) => spec.offset);
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(new Set([...SWING_RULE_SET, ...FREEZE_RULE_SET].map((spec) => spec.name)).size).toBe(
      SWING_RULE_SET.length + FREEZE_RULE_SET.length,
    );
  });

  it('answers 503 with an OpenSearch-shaped JSON body that fits ALB (1024 characters)', () => {
    expect(FREEZE_RESPONSE.statusCode).toBe('503');
    expect(FREEZE_RESPONSE.messageBody.length).toBeLessThanOrEqual(1024);
    expect(JSON.parse(FREEZE_RESPONSE.messageBody)).toMatchObject({
      status: 503,
      error: { type: 'swing_write_freeze' },
    });
  });
});
