import stripAnsi from 'strip-ansi';
import { describe, expect, it } from 'vitest';
import { parseLocalOptions } from '#local/options.ts';
import { runLocal } from '#local/run.ts';
import { FakeTerminal, writtenLines } from '../support/fake-terminal.ts';

/** The live frames a reads-first run draws on an 80-column terminal, read as drawn (log-update's writes). */

/** The live frame on screen after each write (log-update rewrites changed lines only): from its header down. */
function frames(terminal: FakeTerminal): string[][] {
  return terminal.screens.flatMap((screen) => {
    const header = screen.findLastIndex((line) => line.startsWith('Swing local'));
    return header === -1 ? [] : [screen.slice(header)];
  });
}

const share = (frame: string[], label: 'reads' | 'writes') => {
  const line = frame.find((each) => each.startsWith(`${label} `));
  const match = line?.match(/(\d+\.\d) % target/);
  return match ? Number(match[1]) : undefined;
};

describe('Live view of a reads-first run on an 80-column terminal', () => {
  it('draws the read share rising with the write share at 0, the cutover gate warning, the exposure, and no stale frame', async () => {
    const terminal = new FakeTerminal(80, 24, true);
    let press: ((key: string) => void) | undefined;
    let promoted = false;
    let cutOver = false;

    const { exitCode, summary } = await runLocal(
      parseLocalOptions({
        plan: '10:1s,50:1s,100:1s',
        portBase: '0',
        rate: '200',
        alarmP99: '30000',
        traffic: 'reads-first',
        cutoverGate: 'manual',
        targetErrors: '0.5@cutover',
      }),
      {
        isTTY: true,
        terminal,
        env: {},
        keys: (listener) => {
          press = listener;
          return () => {
            press = undefined;
          };
        },
        stdout: (text) => {
          terminal.write(text);
          // A person at the cutover gate reads the warning, then presses p (again, until the writes move).
          const plain = stripAnsi(text);
          if (plain.includes('WRITE CUTOVER')) cutOver = true;
          if (!cutOver && plain.includes('CUTOVER GATE')) {
            promoted = true;
            setTimeout(() => press?.('p'), 100);
          }
        },
      },
    );

    expect(exitCode, JSON.stringify(summary.rollback)).toBe(1);
    expect(promoted).toBe(true);
    const drawn = frames(terminal);
    // Every line fits the 80 columns.
    expect(writtenLines(terminal.writes).filter(({ line }) => line.length > 80)).toEqual([]);
    // The read share rises while the write share stays 0.
    const beforeCutover = drawn.filter((frame) => share(frame, 'writes') === 0);
    const readShares = new Set(beforeCutover.map((frame) => Math.round(share(frame, 'reads') ?? -1)));
    expect([...readShares]).toEqual(expect.arrayContaining([10, 50, 100]));
    // One numbering: the read steps, the cutover and the pins leaving are 5 steps (the alarm in the cutover's
    // bake rolls back before the pins' step).
    expect(drawn.some((frame) => frame[0]?.includes('step 4/5'))).toBe(true);
    expect(drawn.some((frame) => frame.some((line) => /step [5-9]\/|\/[34]\b/.test(line)))).toBe(false);
    // The cutover gate says what passing it does, in the frame and in its event line.
    const gateFrame = drawn.find((frame) => frame.some((line) => line.includes('CUTOVER GATE')));
    expect(gateFrame?.join(' ')).toMatch(
      /CUTOVER GATE: writes move to the target next +after that, a rollback freezes writes, replays them onto the source/,
    );
    expect(gateFrame?.join(' ')).toContain('press p to cut the writes over');
    // At 80x24 the outcome is still on screen when the run has ended, below the summary.
    expect(terminal.visible().some((line) => line.startsWith('outcome: rolled-back'))).toBe(true);
    const text = terminal.lines().join(' ').replace(/\s+/g, ' ');
    // Reads-first captures every write until the cutover: no all-mode warning.
    expect(text).not.toContain('Warning: traffic all');
    expect(text).toMatch(/step 3\/5: CUTOVER GATE: writes move to the target next/);
    // Reverse capture is on by default in a reads-first local run: the writes are replayed back, not left there.
    expect(text).toContain('step 4/5: WRITE CUTOVER: writes move to the target, replayed onto the source');
    // After the cutover both shares are 100, and the phase says the writes cut over.
    expect(
      drawn.some(
        (frame) =>
          share(frame, 'writes') === 100 && frame.some((line) => line.startsWith('phase    writes cut over')),
      ),
    ).toBe(true);
    // The alarm after the cutover: the last frame and the summary give the exposure.
    const last = drawn.at(-1)!;
    expect(last[0]).toContain('ROLLED BACK');
    // The same number as the summary's measure, cutover write to restore write.
    const measured = summary.exposure?.measured?.windowMs;
    expect(measured).toBeDefined();
    expect(last.join(' ')).toContain(`write exposure ${measured} ms, cutover to restore`);
    expect(text).toMatch(/write exposure: \d+ ms from the cutover's write/);
    // No frame says BAKING once one has said ROLLED BACK.
    const firstRolledBack = drawn.findIndex((frame) => frame[0]?.includes('ROLLED BACK'));
    expect(firstRolledBack).toBeGreaterThan(-1);
    expect(drawn.slice(firstRolledBack).filter((frame) => frame[0]?.includes('BAKING'))).toEqual([]);
  }, 120_000);
});
