import { describe, expect, it } from 'vitest';
import { reverseReplayFromEnvironment } from '#clients/replay-lag.ts';
import { reverseCaptureOf, rollbackAfterCutoverText } from '#domain/lossless.ts';

/** Reverse capture's limits on AWS, and the words that say what a rollback after the cutover does. */

describe("AWS's reverse capture names its limits", () => {
  it("the Migration Assistant's replayer and its lag alarm: not an exact drain, refused writes replayed", () => {
    const port = reverseReplayFromEnvironment({ REVERSE_LAG_ALARM: 'swing-reverse-lag' });
    expect(port?.limits).toHaveLength(2);
    expect(port?.limits?.[0]).toMatch(/lag alarm measures .* does not count what is left/);
    expect(port?.limits?.[1]).toMatch(/replays onto the source a write the target refused/);
  });

  it('a missing-data policy of caught-up adds that a stopped replayer counts as drained', () => {
    const port = reverseReplayFromEnvironment({
      REVERSE_LAG_ALARM: 'swing-reverse-lag',
      REVERSE_LAG_MISSING_DATA: 'caught-up',
    });
    expect(port?.limits).toHaveLength(3);
    expect(port?.limits?.[2]).toMatch(/stopped reverse replayer .* counts as drained/);
  });

  it('none without reverse capture', () => {
    expect(reverseReplayFromEnvironment({})).toBeUndefined();
  });
});

describe("Preflight's verdict, read back", () => {
  it('a record written before reverseCapture existed: its lossless meant configured', () => {
    expect(reverseCaptureOf({ lossless: true, detail: 'old' })).toBe(true);
    expect(reverseCaptureOf({ lossless: false, detail: 'old' })).toBe(false);
    expect(reverseCaptureOf({ lossless: false, reverseCapture: true, detail: 'aws' })).toBe(true);
    expect(reverseCaptureOf(undefined)).toBe(false);
  });

  it('says what a rollback after the cutover does: exposure, lossless, or freeze and drain with its limits', () => {
    expect(rollbackAfterCutoverText(undefined)).toBe(
      'a rollback now leaves them there and reports them (the write exposure)',
    );
    expect(rollbackAfterCutoverText({ lossless: true, reverseCapture: true, detail: 'd' })).toMatch(
      /freezes writes \(503\) .* then restores: lossless$/,
    );
    const limited = rollbackAfterCutoverText({
      lossless: false,
      reverseCapture: true,
      detail: 'd',
      limits: ['one', 'two'],
    });
    expect(limited).toMatch(/then restores; not proven lossless: one; two$/);
    expect(
      rollbackAfterCutoverText({ lossless: false, reverseCapture: true, detail: 'alarm unreadable' }),
    ).toMatch(/then restores; alarm unreadable$/);
  });
});
