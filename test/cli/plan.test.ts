import { beforeEach, describe, expect, it } from 'vitest';
import { resetAws, swing } from './harness.ts';

describe('Command: swing plan', () => {
  beforeEach(() => resetAws());

  it('prints each step with its weights, bake, gate and cumulative time, and the total, without AWS', async () => {
    // Act
    const result = await swing(['plan', '5:5m,25:10m,50:10m!,100']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.clientRequests).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('Plan 5:5m,25:10m,50:10m!,100');
    expect(lines[1]).toMatch(/^STEP\s+TARGET\s+WEIGHTS\s+BAKE\s+GATE\s+STARTS\s+BAKED$/);
    expect(lines[2]).toMatch(/^1\s+5 %\s+949\/50\s+5m\s+-\s+\+0s\s+\+5m$/);
    expect(lines[3]).toMatch(/^2\s+25 %\s+749\/250\s+10m\s+-\s+\+5m\s+\+15m$/);
    expect(lines[4]).toMatch(/^3\s+50 %\s+499\/500\s+10m\s+promote\s+\+15m\s+\+25m$/);
    expect(lines[5]).toMatch(/^4\s+100 %\s+0\/999\s+0s\s+-\s+\+25m\s+\+25m$/);
    expect(lines[6]).toBe(
      'Total: 25m of bake after the smoke test, plus the wait at 1 gate for `swing promote`',
    );
  });

  it('gives scripts the normalized plan and timeline with --json', async () => {
    // Act
    const result = await swing(['plan', 'linear-25', '--json']);

    // Assess
    const output = JSON.parse(result.stdout);
    expect(output.spec).toBe('25:5m,50:5m,75:5m,100');
    expect(output.timeline.totalSeconds).toBe(900);
    expect(output.plan.steps).toHaveLength(4);
  });

  it('accepts a { steps } JSON plan', async () => {
    // Act
    const result = await swing([
      'plan',
      '{"steps":[{"targetPercent":10,"bakeSeconds":60},{"targetPercent":100}]}',
    ]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Plan 10:1m,100');
  });

  it('rejects a bad spec with exit 2 and one line naming the step and the fix', async () => {
    // Act
    const result = await swing(['plan', '5:5m,3:1m']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(
      'plan (step 2 "3:1m"): percent is 3: must be greater than the previous step\'s 5',
    );
  });

  it('rejects an unknown preset, naming the presets that exist', async () => {
    // Act
    const result = await swing(['plan', 'canery']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown preset 'canery': use one of canary, linear-10, linear-25");
  });

  it('names the field of a bad JSON plan', async () => {
    // Act
    const result = await swing(['plan', '{"steps":[{"targetPercent":150}]}']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('plan.steps[0].targetPercent: is 150: must be at most 100');
  });

  it('lists the presets when no plan is given', async () => {
    // Act
    const result = await swing(['plan']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/canary\s+5:5m,25:5m,50:5m,100\s+15m/);
  });
});

describe('Program: swing', () => {
  it('exits 2 on an unknown option, in one line that points at --help', async () => {
    // Act
    const result = await swing(['status', '--wacth']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/unknown option '--wacth'.*--help/);
  });

  it('documents the exit codes in --help and exits 0', async () => {
    // Act
    const result = await swing(['--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Exit codes:');
    for (const code of [
      '0  ok',
      '1  rolled back',
      '2  bad input',
      '3  halted',
      '4  AWS error',
      '5  still running',
    ]) {
      expect(result.stdout).toContain(code);
    }
  });

  it.each([
    'plan',
    'start',
    'status',
    'pause',
    'resume',
    'promote',
    'abort',
    'rollback',
    'set-weights',
    'smoke',
    'history',
    'schedule',
    'local',
  ])('shows an example in `swing %s --help`', async (name) => {
    // Act
    const result = await swing([name, '--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Examples?:\\n\\s+\\$ swing ${name}`));
  });

  it.each(['add', 'list', 'rm'])('shows an example in `swing schedule %s --help`', async (name) => {
    // Act
    const result = await swing(['schedule', name, '--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Examples?:\\n\\s+\\$ swing schedule ${name}`));
  });
});
