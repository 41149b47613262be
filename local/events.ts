import { runSteps } from '#domain/reads-first.ts';
import type {
  AcquireResult,
  AlarmStateValue,
  ListenerRecord,
  RollbackReason,
  Rollout,
  RolloutPatch,
  RolloutStatus,
  RolloutStore,
  SmokePort,
  SmokeReport,
  UpdateGuard,
  WaitOpening,
  Weights,
} from '#domain/types.ts';
import { weightsToPercent } from '#domain/weights.ts';

/**
 * What happened during a local run, in order, each stamped with when (ISO 8601). The run's timeline keeps
 * them; the live view draws them as they come and the report and `--json` carry them: one list, so the
 * view and the report never tell different stories.
 */
export type LocalEvent =
  /** The rollout moved to another phase, or to another step within one (e.g. baking step 1 -> step 2). */
  | {
      readonly kind: 'phase';
      readonly at: string;
      /** The record's status, or `baked`: the step's bake ended with no alarm (the record says `shifting`). */
      readonly status: RolloutStatus | 'baked';
      /** Index of the plan step the rollout is at (0-based). */
      readonly stepIndex: number;
      readonly steps: number;
      readonly targetPercent: number;
      /** For baking: how long the step bakes, from the plan. */
      readonly bakeSeconds?: number;
      /** For gated: when the gate times out (and the rollout rolls back). */
      readonly endsAt?: string;
      /** For rolling-back and the outcomes: why. */
      readonly reason?: RollbackReason;
      /** Reads-first: the step moves the read rules (`reads`), the writes (`cutover`) or removes the `pins`. */
      readonly stepKind?: 'reads' | 'cutover' | 'pins';
      /** Reads-first: this gate is the one before the write cutover (passing it moves the writes). */
      readonly cutoverGate?: boolean;
    }
  | { readonly kind: 'smoke'; readonly at: string; readonly ok: boolean; readonly detail: string }
  | {
      readonly kind: 'weights';
      readonly at: string;
      readonly weights: Weights;
      readonly targetPercent: number;
    }
  | {
      readonly kind: 'alarm';
      readonly at: string;
      readonly alarm: string;
      readonly state: AlarmStateValue;
      readonly previous: AlarmStateValue;
      readonly reason: string;
    }
  | {
      readonly kind: 'operator';
      readonly at: string;
      readonly action: 'promote' | 'abort' | 'interrupt';
      /** What asked: a flag (`--promote-at`), a key, Ctrl-C. */
      readonly by: string;
      readonly result: string;
    }
  | { readonly kind: 'fault'; readonly at: string; readonly detail: string }
  /** A rollback after the cutover's write freeze (reverse capture): made, drained or timed out, lifted, or refused. */
  | {
      readonly kind: 'freeze';
      readonly at: string;
      readonly stage: FreezeStage;
      /** From the freeze to this stage (drained, timed-out, lifted), ms. */
      readonly afterMs?: number;
      /** frozen: the drain's bound; lifted: the writes refused; drain and failed: the words of the record. */
      readonly drainTimeoutMs?: number;
      readonly refusedWrites?: number;
      readonly detail?: string;
    };

export type FreezeStage = 'frozen' | 'drained' | 'timed-out' | 'lifted' | 'failed';

export type LocalEventListener = (event: LocalEvent) => void;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as recorded: stamped now unless it brings its own `at`. */
export type UnstampedEvent = DistributiveOmit<LocalEvent, 'at'> & { at?: string };

/** Where the run's events go: the run's one timeline (local/timeline.ts). */
export interface EventRecorder {
  record(event: UnstampedEvent): LocalEvent;
}

/** Whoever draws the events as they come. */
export interface EventSource {
  subscribe(listener: LocalEventListener): () => void;
}

/** After a clean bake the engine marks the step baked before it moves on or opens the gate's task. */
function phaseOf(rollout: Rollout): RolloutStatus | 'baked' {
  const waitingForTask = rollout.status === 'shifting' || rollout.status === 'gated';
  const baked = rollout.steps.find((step) => step.index === rollout.stepIndex)?.bakedAt;
  return waitingForTask && !rollout.taskKind && baked ? 'baked' : rollout.status;
}

function targetPercentOf(rollout: Rollout): number {
  try {
    return weightsToPercent(rollout.lastWritten);
  } catch {
    return 0;
  }
}

/**
 * The record store, observed: after each write it emits a `phase` event when the rollout's status or step
 * changed. The engine writes every phase it enters to the record, so nothing else has to be polled.
 */
export class ObservedRolloutStore implements RolloutStore {
  private lastPhase = '';
  private readonly freezeStages = new Set<FreezeStage>();

  constructor(
    private readonly inner: RolloutStore,
    private readonly log: EventRecorder,
  ) {}

  get(listenerArn: string): Promise<ListenerRecord | undefined> {
    return this.inner.get(listenerArn);
  }

  async acquire(listenerArn: string, rollout: Rollout): Promise<AcquireResult> {
    const result = await this.inner.acquire(listenerArn, rollout);
    if (result === 'acquired') this.observe(rollout);
    return result;
  }

  async update(
    listenerArn: string,
    executionArn: string,
    patch: RolloutPatch,
    fence?: string,
    guard?: UpdateGuard,
  ): Promise<Rollout> {
    // The fence and the guard pass through: the local mode refuses such a write as DynamoDB would.
    const rollout = await this.inner.update(listenerArn, executionArn, patch, fence, guard);
    this.observe(rollout);
    return rollout;
  }

  async release(listenerArn: string, executionArn: string, final: RolloutPatch): Promise<boolean> {
    const released = await this.inner.release(listenerArn, executionArn, final);
    if (released) {
      const rollout = (await this.inner.get(listenerArn))?.rollout;
      if (rollout) this.observe(rollout);
    }
    return released;
  }

  async openWait(
    listenerArn: string,
    executionArn: string,
    opening: WaitOpening,
    patch: RolloutPatch,
  ): Promise<Rollout | undefined> {
    const rollout = await this.inner.openWait(listenerArn, executionArn, opening, patch);
    if (rollout) this.observe(rollout);
    return rollout;
  }

  async request(
    listenerArn: string,
    flags: Pick<RolloutPatch, 'abortRequested' | 'pauseRequested' | 'abortDuringCutover'>,
  ): Promise<Rollout> {
    return this.inner.request(listenerArn, flags);
  }

  refuse(listenerArn: string, executionArn: string): Promise<'recorded' | 'held'> {
    return this.inner.refuse(listenerArn, executionArn);
  }

  private observe(rollout: Rollout): void {
    if (rollout.freeze) {
      for (const event of freezeEvents(rollout.freeze, this.freezeStages)) this.log.record(event);
    }
    const status = phaseOf(rollout);
    const key = `${status}/${rollout.stepIndex}`;
    if (key === this.lastPhase) return;
    this.lastPhase = key;
    const waiting = status === 'baking' || status === 'gated';
    const ended =
      status === 'rolling-back' || status === 'rolled-back' || status === 'halted' || status === 'refused';
    // Reads-first runs two more steps than the plan has: the write cutover and the pins leaving.
    const steps = runSteps(rollout);
    this.log.record({
      kind: 'phase',
      status,
      stepIndex: rollout.stepIndex,
      steps: steps.length,
      targetPercent:
        status === 'shifting' || status === 'baked' || waiting
          ? (steps[rollout.stepIndex]?.targetPercent ?? targetPercentOf(rollout))
          : targetPercentOf(rollout),
      ...(status === 'baking' ? { bakeSeconds: steps[rollout.stepIndex]?.bakeSeconds ?? 0 } : {}),
      // The record keeps an earlier task's end until the next task opens: only a gate's own end counts.
      ...(status === 'gated' && rollout.taskKind === 'gate' && rollout.bakeEndsAt
        ? { endsAt: rollout.bakeEndsAt }
        : {}),
      ...(ended && rollout.reason ? { reason: rollout.reason } : {}),
      ...(steps[rollout.stepIndex]?.kind ? { stepKind: steps[rollout.stepIndex]?.kind } : {}),
      ...(status === 'gated' && steps[rollout.stepIndex + 1]?.kind === 'cutover'
        ? { cutoverGate: true }
        : {}),
    });
  }
}

/** The freeze's stages the record shows and `seen` has not: each once, in the order they happen. */
export function freezeEvents(
  freeze: NonNullable<Rollout['freeze']>,
  seen: Set<FreezeStage>,
): UnstampedEvent[] {
  const frozenAt = freeze.frozenAt ?? freeze.startedAt;
  const after = (at: string) => Math.max(0, Date.parse(at) - Date.parse(frozenAt));
  const stages: [FreezeStage, string | undefined, () => UnstampedEvent][] = [
    [
      'failed',
      freeze.failed ? freeze.startedAt : undefined,
      () => ({ kind: 'freeze', stage: 'failed', at: freeze.startedAt, detail: freeze.failed ?? '' }),
    ],
    [
      'frozen',
      freeze.frozenAt,
      () => ({
        kind: 'freeze',
        stage: 'frozen',
        at: frozenAt,
        drainTimeoutMs: Math.max(0, Date.parse(freeze.drainDeadline) - Date.parse(frozenAt)),
      }),
    ],
    [
      freeze.drain === 'timed-out' ? 'timed-out' : 'drained',
      freeze.drainEndedAt,
      () => ({
        kind: 'freeze',
        stage: freeze.drain === 'timed-out' ? 'timed-out' : 'drained',
        at: freeze.drainEndedAt!,
        afterMs: after(freeze.drainEndedAt!),
        ...(freeze.drainDetail ? { detail: freeze.drainDetail } : {}),
      }),
    ],
    [
      'lifted',
      freeze.liftedAt,
      () => ({
        kind: 'freeze',
        stage: 'lifted',
        at: freeze.liftedAt!,
        afterMs: after(freeze.liftedAt!),
        ...(freeze.refusedWrites !== undefined ? { refusedWrites: freeze.refusedWrites } : {}),
      }),
    ],
  ];
  const events: UnstampedEvent[] = [];
  for (const [stage, at, event] of stages) {
    if (at === undefined || seen.has(stage)) continue;
    seen.add(stage);
    events.push(event());
  }
  return events;
}

/**
 * Whether the event starts a step that writes no weight (the pins leaving): its window then starts here, as
 * another step's starts at its write.
 */
export function startsStepWithoutWrite(event: LocalEvent): boolean {
  return event.kind === 'phase' && event.status === 'shifting' && event.stepKind === 'pins';
}

/** The smoke tester, observed: its verdict becomes a `smoke` event. */
export function observedSmokeTester(inner: SmokePort, log: EventRecorder): SmokePort {
  return {
    run: async () => {
      let report: SmokeReport;
      try {
        report = await inner.run();
      } catch (error) {
        log.record({
          kind: 'smoke',
          ok: false,
          detail: error instanceof Error ? error.message : String(error),
        });
        throw error;
      }
      const failures = report.results.filter((result) => !result.ok);
      log.record({
        kind: 'smoke',
        ok: report.ok,
        detail: report.ok
          ? `${report.results.length} checks passed on the source and target paths`
          : failures.map((failure) => `${failure.path} ${failure.name}: ${failure.detail}`).join('; '),
      });
      return report;
    },
  };
}
