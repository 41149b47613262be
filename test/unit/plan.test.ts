import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationFailed } from '#domain/errors.ts';
import {
  describePlan,
  formatDuration,
  formatPlanSpec,
  listPresets,
  PRESETS,
  parseDuration,
  resolvePlan,
} from '#domain/plan.ts';
import type { Plan } from '#domain/types.ts';

function issuesOf(act: () => unknown) {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailed);
    return (error as ValidationFailed).issues;
  }
  throw new Error('expected ValidationFailed');
}

const step = (targetPercent: number, bakeSeconds = 0, gate = false) => ({ targetPercent, bakeSeconds, gate });

const validPlan: fc.Arbitrary<Plan> = fc
  .uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 50 })
  .chain((tenths) =>
    fc.tuple(
      ...[...tenths]
        .sort((a, b) => a - b)
        .map((tenth) =>
          fc.record({
            targetPercent: fc.constant(tenth / 10),
            bakeSeconds: fc.integer({ min: 0, max: 86_400 }),
            gate: fc.boolean(),
          }),
        ),
    ),
  )
  .map((steps) => ({ steps }));

describe('Function: resolvePlan', () => {
  describe('presets', () => {
    it('resolves canary to 5, 25, 50, 100 baking 5 minutes except the last step', () => {
      expect(resolvePlan('canary')).toEqual({
        steps: [step(5, 300), step(25, 300), step(50, 300), step(100, 0)],
      });
    });

    it('resolves linear-10 and linear-25 to even increments ending at 100', () => {
      expect(resolvePlan('linear-10').steps.map((s) => s.targetPercent)).toEqual([
        10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
      ]);
      expect(resolvePlan(' linear-25 ').steps).toEqual([
        step(25, 300),
        step(50, 300),
        step(75, 300),
        step(100),
      ]);
    });

    it('lists every preset with a spec that resolves to the same plan', () => {
      const listed = listPresets();

      expect(listed.map((preset) => preset.name)).toEqual([...PRESETS]);
      for (const preset of listed) expect(resolvePlan(preset.spec)).toEqual(resolvePlan(preset.name));
    });

    it('refuses an unknown preset, listing the presets and a spec example', () => {
      const issues = issuesOf(() => resolvePlan('canry'));

      expect(issues).toEqual([
        {
          field: 'plan',
          message:
            "unknown preset 'canry': use one of canary, linear-10, linear-25 or a spec like 5:5m,25:10m,100",
        },
      ]);
    });
  });

  describe('compact spec', () => {
    it('parses percents, bakes and gates', () => {
      expect(resolvePlan('5:5m,25:10m,50:10m!,100')).toEqual({
        steps: [step(5, 300), step(25, 600), step(50, 600, true), step(100)],
      });
    });

    it('tolerates whitespace and takes an omitted bake as 0', () => {
      expect(resolvePlan('  0.5 : 90 , 12.5:1h30m ! , 30 !,40:45s ')).toEqual({
        steps: [step(0.5, 90), step(12.5, 5400, true), step(30, 0, true), step(40, 45)],
      });
    });

    it('lets a plan stop short of 100 %', () => {
      expect(resolvePlan('1:1m,5').steps.at(-1)).toEqual(step(5));
    });

    it.each([
      ['5:5m,25:10m,50:xx,100', 'plan (step 3 "50:xx")', "bake 'xx' is not a duration", '1h30m'],
      ['5,abc', 'plan (step 2 "abc")', "percent 'abc' is not a number", 'like 5 or 12.5'],
      ['5,,10', 'plan (step 2 "")', 'is empty', 'remove the extra comma'],
      ['5:1m:2m', 'plan (step 1 "5:1m:2m")', 'more than one ":"', 'PERCENT[:BAKE][!]'],
      ['5:25h', 'plan (step 1 "5:25h")', 'bake is 90000', 'at most 86400 s'],
      ['0,10', 'plan (step 1 "0")', 'percent is 0', 'greater than 0'],
      ['50,100.5', 'plan (step 2 "100.5")', 'percent is 100.5', 'at most 100'],
      ['12.34', 'plan (step 1 "12.34")', 'percent is 12.34', 'at most one decimal'],
      [
        '10,25,25',
        'plan (step 3 "25")',
        'percent is 25',
        "previous step's 25: percents must strictly increase",
      ],
    ])('refuses %j naming the step and the fix', (spec, field, what, fix) => {
      const issues = issuesOf(() => resolvePlan(spec));

      expect(issues).toEqual([{ field, message: expect.stringContaining(what) }]);
      expect(issues[0]?.message).toContain(fix);
    });

    it('reports every bad step at once, in step order', () => {
      const issues = issuesOf(() => resolvePlan('5,25,20,100.55'));

      expect(issues.map((issue) => issue.field)).toEqual([
        'plan (step 3 "20")',
        'plan (step 4 "100.55")',
        'plan (step 4 "100.55")',
      ]);
    });

    it('names the field it was given', () => {
      const issues = issuesOf(() => resolvePlan('5:zz', 'input.plan'));

      expect(issues[0]?.field).toBe('input.plan (step 1 "5:zz")');
    });

    it('refuses more than 50 steps', () => {
      const spec = Array.from({ length: 51 }, (_, index) => index + 1).join(',');

      expect(issuesOf(() => resolvePlan(spec))).toEqual([
        { field: 'plan', message: expect.stringContaining('has 51 steps: at most 50') },
      ]);
    });
  });

  describe('steps object', () => {
    it('defaults bake to 0 and gate to false', () => {
      expect(resolvePlan({ steps: [{ targetPercent: 10 }, { targetPercent: 100, gate: true }] })).toEqual({
        steps: [step(10), step(100, 0, true)],
      });
    });

    it('returns a frozen plan without extra keys', () => {
      const plan = resolvePlan({ steps: [{ targetPercent: 10, bakeSeconds: 60 }] });

      expect(Object.isFrozen(plan)).toBe(true);
      expect(Object.isFrozen(plan.steps)).toBe(true);
      expect(Object.isFrozen(plan.steps[0])).toBe(true);
      expect(Object.keys(plan.steps[0] ?? {})).toEqual(['targetPercent', 'bakeSeconds', 'gate']);
    });

    it.each([
      [{ steps: [] }, 'plan.steps', 'is empty', 'at least one step'],
      [{}, 'plan.steps', 'is required', 'a list of steps'],
      [{ steps: 'canary' }, 'plan.steps', 'must be a list of steps', 'targetPercent'],
      [{ steps: [5] }, 'plan.steps[0]', 'must be an object like', '"targetPercent": 25'],
      [{ steps: [{}] }, 'plan.steps[0].targetPercent', 'is required', 'e.g. 25'],
      [{ steps: [{ targetPercent: 101 }] }, 'plan.steps[0].targetPercent', 'is 101', 'at most 100'],
      [{ steps: [{ targetPercent: 0 }] }, 'plan.steps[0].targetPercent', 'is 0', 'greater than 0'],
      [{ steps: [{ targetPercent: 0.05 }] }, 'plan.steps[0].targetPercent', 'is 0.05', 'at most one decimal'],
      [
        { steps: [{ targetPercent: 5, bakeSeconds: 1.5 }] },
        'plan.steps[0].bakeSeconds',
        'is 1.5',
        'whole number',
      ],
      [{ steps: [{ targetPercent: 5, bakeSeconds: -1 }] }, 'plan.steps[0].bakeSeconds', 'is -1', '0 or more'],
      [
        { steps: [{ targetPercent: 5, bakeSeconds: 86_401 }] },
        'plan.steps[0].bakeSeconds',
        'is 86401',
        '86400',
      ],
      [
        { steps: [{ targetPercent: 5, bakeSeconds: '5m' }] },
        'plan.steps[0].bakeSeconds',
        'must be a number',
        '300',
      ],
      [{ steps: [{ targetPercent: 5, gate: 'yes' }] }, 'plan.steps[0].gate', 'must be true or false', 'true'],
      [{ steps: [{ targetPercent: 5, bake: 60 }] }, 'plan.steps[0]', "unknown key 'bake'", 'bakeSeconds'],
      [{ step: [] }, 'plan', "unknown key 'step'", 'use only steps'],
      [42, 'plan', 'must be a preset', 'or { "steps": [...] }'],
      [null, 'plan', 'must be a preset', 'a spec like 5:5m,25:10m,100'],
      ['', 'plan', 'is empty', 'a spec like 5:5m,25:10m,100'],
    ])('refuses %j naming %s and the fix', (input, field, what, fix) => {
      const issues = issuesOf(() => resolvePlan(input));

      expect(issues).toContainEqual({ field, message: expect.stringContaining(what) });
      expect(issues.find((issue) => issue.field === field)?.message).toContain(fix);
    });

    it('refuses a step that does not go up, naming it and the previous percent', () => {
      const issues = issuesOf(() =>
        resolvePlan({ steps: [{ targetPercent: 10 }, { targetPercent: 25 }, { targetPercent: 20 }] }),
      );

      expect(issues).toEqual([
        {
          field: 'plan.steps[2].targetPercent',
          message: "is 20: must be greater than the previous step's 25: percents must strictly increase",
        },
      ]);
    });

    it('does not repeat an out-of-range percent as an ordering problem', () => {
      const issues = issuesOf(() => resolvePlan({ steps: [{ targetPercent: 50 }, { targetPercent: 0 }] }));

      expect(issues).toHaveLength(1);
      expect(issues[0]?.message).toContain('greater than 0');
    });

    it('accepts every generated valid plan as given', () => {
      fc.assert(
        fc.property(validPlan, (plan) => {
          expect(resolvePlan(plan)).toEqual(plan);
        }),
      );
    });
  });
});

describe('Function: formatPlanSpec', () => {
  it('writes the compact spec, leaving out zero bakes', () => {
    expect(formatPlanSpec(resolvePlan({ steps: [step(5, 300), step(50, 5400, true), step(100)] }))).toBe(
      '5:5m,50:1h30m!,100',
    );
  });

  it('round-trips through resolvePlan for every valid plan', () => {
    fc.assert(
      fc.property(validPlan, (plan) => {
        expect(resolvePlan(formatPlanSpec(plan))).toEqual(plan);
      }),
    );
  });
});

describe('Function: parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['1h', 3600],
    ['1h30m', 5400],
    ['1h30m15s', 5415],
    [' 0 ', 0],
    ['0s', 0],
  ])('reads %j as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'xx', '5 m', '1.5h', '30m1h', '-5', 'm'])('refuses %j naming the accepted forms', (text) => {
    expect(issuesOf(() => parseDuration(text))).toEqual([
      {
        field: 'duration',
        message: expect.stringContaining('use seconds (90, 90s) or units like 5m, 1h, 1h30m'),
      },
    ]);
  });
});

describe('Function: formatDuration', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [300, '5m'],
    [5400, '1h30m'],
    [3661, '1h1m1s'],
    [86_400, '24h'],
  ])('writes %i seconds as %j', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('is the inverse of parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400 }), (seconds) => {
        expect(parseDuration(formatDuration(seconds))).toBe(seconds);
      }),
    );
  });

  it('refuses a negative or fractional number of seconds', () => {
    expect(issuesOf(() => formatDuration(-1))[0]?.field).toBe('seconds');
    expect(issuesOf(() => formatDuration(1.5))[0]?.message).toContain('whole number of seconds');
  });
});

describe('Function: describePlan', () => {
  it('lays out when each bake starts and ends, and counts the gates that make the total a minimum', () => {
    const timeline = describePlan(resolvePlan('5:5m,25:10m!,50:1m!,100'));

    expect(timeline).toEqual({
      steps: [
        { index: 0, targetPercent: 5, bakeSeconds: 300, gate: false, startsAtSeconds: 0, endsAtSeconds: 300 },
        {
          index: 1,
          targetPercent: 25,
          bakeSeconds: 600,
          gate: true,
          startsAtSeconds: 300,
          endsAtSeconds: 900,
        },
        {
          index: 2,
          targetPercent: 50,
          bakeSeconds: 60,
          gate: true,
          startsAtSeconds: 900,
          endsAtSeconds: 960,
        },
        {
          index: 3,
          targetPercent: 100,
          bakeSeconds: 0,
          gate: false,
          startsAtSeconds: 960,
          endsAtSeconds: 960,
        },
      ],
      totalSeconds: 960,
      gates: 2,
    });
  });

  it('totals the bakes of any plan', () => {
    fc.assert(
      fc.property(validPlan, (plan) => {
        const timeline = describePlan(plan);
        expect(timeline.totalSeconds).toBe(plan.steps.reduce((sum, s) => sum + s.bakeSeconds, 0));
        expect(timeline.steps.at(-1)?.endsAtSeconds).toBe(timeline.totalSeconds);
      }),
    );
  });
});
