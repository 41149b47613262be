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
    expect(lines[2]).toMatch(/^1\/4\s+5 %\s+949\/50\s+5m\s+-\s+\+0s\s+\+5m$/);
    expect(lines[3]).toMatch(/^2\/4\s+25 %\s+749\/250\s+10m\s+-\s+\+5m\s+\+15m$/);
    expect(lines[4]).toMatch(/^3\/4\s+50 %\s+499\/500\s+10m\s+promote\s+\+15m\s+\+25m$/);
    expect(lines[5]).toMatch(/^4\/4\s+100 %\s+0\/999\s+0s\s+-\s+\+25m\s+\+25m$/);
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

  it('shows reads-first read steps as reads, then the write cutover on its own line with its gate, timeout action and bake', async () => {
    // Act
    const result = await swing(['plan', '5:5m,25:10m,100', '--traffic', 'reads-first']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.clientRequests).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[2]).toMatch(/^1\/5\s+5 % reads\s+949\/50\s+5m\s+-\s+\+0s\s+\+5m$/);
    expect(lines[4]).toMatch(/^3\/5\s+100 % reads\s+0\/999\s+0s\s+-/);
    // The default cutover: a manual gate whose timeout rolls the reads back; it bakes 10m (keep-alive 5m).
    expect(lines[5]).toMatch(/^4\/5 cutover\s+100 % writes\s+0\/999\s+10m\s+promote\s+\+15m\s+\+25m$/);
    expect(result.stdout).toContain('writes stay on the source, captured, until the cutover');
    expect(result.stdout).toContain(
      'Write cutover: waits for `swing promote` (after 1h: rollback, the reads go back, nothing lost); it bakes 10m',
    );
    // swing plan reads no stack: whether a rollback after the cutover is lossless depends on reverse capture.
    expect(result.stdout).toMatch(
      /a failure after it rolls back: with reverse capture .* the starting weights come back, not proven lossless \(a lag alarm, not a count, ends the drain.*a write the target refused; `swing status` shows Preflight's verdict\); without it it reports the write exposure/,
    );
    expect(result.stdout).not.toContain('restore');
  });

  it('bakes the write cutover at least the scroll keep-alive, and shows a replay-lag gate and the hold policy', async () => {
    // Act
    const result = await swing([
      'plan',
      '10:5m,100',
      '--traffic',
      'reads-first',
      '--cutover-gate',
      'replay-lag',
      '--after-cutover',
      'hold',
      '--scroll-keep-alive',
      '20m',
    ]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\n3\/4 cutover\s+100 % writes\s+0\/999\s+20m\s+replay-lag\s+/);
    expect(result.stdout).toContain('Write cutover: goes once the replayer has caught up');
    expect(result.stdout).toContain('holds the writes on the target and halts');
    // The reordering the AWS cutover still allows is said, never silent.
    expect(result.stdout).toContain('On AWS the cutover does not freeze writes yet');
    // Then the pins leave, baked on their own (cutoverBakeSeconds, 10m by default) under alarm watch.
    expect(result.stdout).toMatch(/\n4\/4 pins\s+100 % pinned reads\s+0\/999\s+10m\s+-\s+\+25m\s+\+35m/);
    expect(result.stdout).toContain('Pins: then the pins go');
    expect(result.stdout).toMatch(/Total: 35m of bake after the smoke test\n?$/);
  });

  it('shows a reads-first rehearsal ending with the restore instead of the cutover', async () => {
    // Act
    const result = await swing(['plan', '5:30m', '--traffic', 'reads-first', '--rehearsal']);
    const json = JSON.parse(
      (await swing(['plan', '5:30m', '--traffic', 'reads-first', '--rehearsal', '--json'])).stdout,
    );

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('cutover  ');
    expect(result.stdout).toMatch(/\nrestore\s+starting\s+starting\s+-\s+-\s+\+30m\s+\+30m\n/);
    expect(result.stdout).toContain('writes never cut over, so nothing is lost');
    expect(json).toMatchObject({ traffic: 'reads-first', planEnd: 'restore' });
    expect(json.timeline.steps).toEqual([expect.objectContaining({ targetPercent: 5, kind: 'reads' })]);
  });

  it('gives scripts the run steps, the cutover and the pins leaving included, with --json', async () => {
    // Act
    const json = JSON.parse(
      (await swing(['plan', '50:5m,100', '--traffic', 'reads-first', '--json'])).stdout,
    );

    // Assess
    expect(json.readsFirst).toMatchObject({ cutoverGate: 'manual', afterCutover: 'rollback' });
    expect(json.timeline.steps.map((step: { kind: string }) => step.kind)).toEqual([
      'reads',
      'reads',
      'cutover',
      'pins',
    ]);
  });

  it.each([
    [
      ['5:30m', '--rehearsal'],
      '--accept-writes-on-target: is not set: a rehearsal in all mode sends writes to the target',
    ],
    [
      ['5:5m,50', '--traffic', 'reads-first'],
      'plan (step 2): is 50: in reads-first mode the reads must reach 100 before the write cutover',
    ],
    [['5:5m,100', '--traffic', 'writes'], "--traffic: is 'writes': use reads-first"],
    [
      ['5:5m,100', '--traffic', 'all', '--cutover-gate', 'manual'],
      '--cutover-gate: applies to --traffic reads-first only',
    ],
    [['5:5m,100', '--cutover-gate', 'soon'], "--cutover-gate: must be 'manual'"],
    [['5:5m,100', '--scroll-keep-alive', 'forever'], "--scroll-keep-alive: 'forever' is not a duration"],
  ])('refuses %j with exit 2 as preflight would, naming the flag', async (flags, message) => {
    // Act
    const result = await swing(['plan', ...flags]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
  });

  it('accepts an all-mode rehearsal whose operator accepts that writes stay on the target', async () => {
    // Act
    const result = await swing(['plan', '5:30m', '--rehearsal', '--accept-writes-on-target']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('the writes the target took stay on the target only');
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

  it('says whether a rollback after the cutover is lossless, as the stack says (its ReverseLagAlarm output)', async () => {
    const { renderTimeline } = await import('../../cli/commands/plan.ts');
    const { DEFAULT_READS_FIRST } = await import('#domain/reads-first.ts');
    const plan = { steps: [{ targetPercent: 100, bakeSeconds: 60, gate: false }] };
    const view = { traffic: 'reads-first' as const, planEnd: 'hold' as const, settings: DEFAULT_READS_FIRST };
    expect(renderTimeline(plan, { ...view, reverseLagAlarm: 'swing-reverse-lag' })).toMatch(
      /rolls back: reverse capture is on \(swing-reverse-lag\), so writes are frozen \(503\).*the starting weights come back; not proven lossless \(a lag alarm, not a count, ends the drain, and the Migration Assistant's replayer replays onto the source a write the target refused/,
    );
    expect(renderTimeline(plan, { ...view, reverseLagAlarm: null })).toContain(
      'this stack has no reverse capture (no ReverseLagAlarm output): not lossless',
    );
  });
});
