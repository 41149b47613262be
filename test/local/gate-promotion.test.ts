import { describe, expect, it } from 'vitest';
import { GatePromotions } from '#local/gate-promotion.ts';

describe('Class: GatePromotions', () => {
  it('marks a gate promoted only once its promote succeeded: a refused promote leaves the next press to try again', async () => {
    const answers = [false, true];
    const calls: string[] = [];
    const gates = new GatePromotions(async (by) => {
      calls.push(by);
      return answers.shift() ?? true;
    });

    expect(await gates.request(2, "key 'p'")).toBe(false);
    expect(gates.has(2)).toBe(false);
    expect(await gates.request(2, "key 'p'")).toBe(true);
    expect(gates.has(2)).toBe(true);
    expect(await gates.request(2, "key 'p'")).toBe(false);
    expect(calls).toEqual(["key 'p'", "key 'p'"]);
  });

  it('sends one promote for a gate while one is under way (a key held down), and another gate its own', async () => {
    let release: (done: boolean) => void = () => {};
    const calls: number[] = [];
    let gateOf = 0;
    const gates = new GatePromotions(
      () =>
        new Promise<boolean>((resolve) => {
          calls.push(gateOf);
          release = resolve;
        }),
    );

    gateOf = 1;
    const first = gates.request(1, "key 'p'");
    const second = gates.request(1, "key 'p'");
    release(true);

    expect(await first).toBe(true);
    expect(await second).toBe(false);
    expect(calls).toEqual([1]);
    gateOf = 3;
    const other = gates.request(3, '--promote-at');
    release(true);
    expect(await other).toBe(true);
    expect(calls).toEqual([1, 3]);
  });
});
