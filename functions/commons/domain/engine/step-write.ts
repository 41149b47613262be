import { GOING_ON, unlessPaused } from '../pause.ts';
import type { RunStep } from '../reads-first.ts';
import type { Rollout, RolloutPatch, Weights } from '../types.ts';
import type { EngineDeps } from './deps.ts';
import { upsertStep } from './record.ts';

/**
 * The step-write protocol every ShiftWeights step follows, whatever it moves (the weights, the read rules, the
 * write cutover).
 */

export type StepWriteDeps = Pick<EngineDeps, 'listenerArn' | 'store' | 'now'>;

/** One step's write: what it marks as begun, the write itself, and what it records once the write is verified. */
export interface StepWrite {
  readonly desired: Weights;
  readonly pending: (startedAt: string) => RolloutPatch;
  readonly write: () => Promise<void>;
  readonly done: () => RolloutPatch;
}

/**
 * The protocol every step's write follows: mark it pending, write, record it, both record writes fenced. The
 * pending mark keeps a crash between the write and the record from looking like drift; the fence keeps a stale
 * attempt (its answer lost, a retry already moved on) from writing or clearing the token of a bake opened since.
 * The pending mark is also guarded: a pause requested before it holds the rollout before this step's write; one
 * requested after it finds the write under way (it holds once this step's bake ends).
 */
export async function writeStep(
  deps: StepWriteDeps,
  rollout: Rollout,
  index: number,
  step: RunStep,
  fence: string | undefined,
  move: StepWrite,
): Promise<void> {
  const startedAt = deps.now().toISOString();
  // Guarded: a pause that landed since this attempt read the record holds the rollout before this step, an
  // abort rolls it back before its write.
  const at = { listenerArn: deps.listenerArn, executionArn: rollout.executionArn, fence };
  await unlessPaused(deps.store, at, () =>
    deps.store.update(
      deps.listenerArn,
      rollout.executionArn,
      {
        ...move.pending(startedAt),
        // Never moved back: of two attempts of one step, the later time must survive whichever writes last.
        lastShiftAt: latestTime(rollout.lastShiftAt, startedAt),
        stepIndex: index,
        status: 'shifting',
        taskToken: undefined,
        taskKind: undefined,
      },
      fence,
      GOING_ON,
    ),
  );
  await move.write();
  await deps.store.update(
    deps.listenerArn,
    rollout.executionArn,
    {
      ...move.done(),
      status: 'baking',
      steps: upsertStep(rollout.steps, {
        index,
        targetPercent: step.targetPercent,
        weights: move.desired,
        startedAt,
        ...(step.kind ? { kind: step.kind } : {}),
      }),
    },
    fence,
    // `swing rollback --force` during the write (it records first, then restores): no ELBv2 write is
    // conditional, so the step's rules or weights may land after its restore; the step is not recorded, and
    // the rollout rolls back, removing them.
    { notForced: true },
  );
}

export function latestTime(recorded: string | undefined, candidate: string): string {
  return recorded !== undefined && Date.parse(recorded) > Date.parse(candidate) ? recorded : candidate;
}
