import { abortRollout, type OperatorDeps, promoteGate } from '#domain/operator.ts';
import type { EventRecorder } from './events.ts';

/** The local operator's promote and abort, each recorded as an event with its result; true when it went through. */
export function operatorAct(
  operator: OperatorDeps,
  log: EventRecorder,
): (action: 'promote' | 'abort', by: string) => Promise<boolean> {
  return async (action, by) => {
    let result: string;
    let done = true;
    try {
      result =
        action === 'promote'
          ? (await promoteGate(operator)).delivered
          : (await abortRollout(operator, `swing local ${by}`)).delivered;
    } catch (error) {
      done = false;
      result = error instanceof Error ? error.message : String(error);
    }
    log.record({ kind: 'operator', action, by, result });
    return done;
  };
}

/**
 * Which gates the local run has promoted, by step: a gate counts as promoted only once its promote succeeded
 * (a promote refused, say because the gate's task was not open yet, leaves it to the next press of p), and one
 * promote at a time goes out for a gate, so a key held down sends one.
 */
export class GatePromotions {
  private readonly promoted = new Set<number>();
  private readonly pending = new Set<number>();

  constructor(private readonly promote: (by: string) => Promise<boolean>) {}

  /** Promotes the gate of `stepIndex` unless it is promoted or being promoted; true when this call promoted it. */
  async request(stepIndex: number, by: string): Promise<boolean> {
    if (this.promoted.has(stepIndex) || this.pending.has(stepIndex)) return false;
    this.pending.add(stepIndex);
    try {
      const done = await this.promote(by);
      if (done) this.promoted.add(stepIndex);
      return done;
    } finally {
      this.pending.delete(stepIndex);
    }
  }

  has(stepIndex: number): boolean {
    return this.promoted.has(stepIndex);
  }
}
