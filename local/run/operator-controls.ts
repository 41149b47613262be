import { GatePromotions, operatorAct } from '../gate-promotion.ts';
import type { LocalOptions } from '../options.ts';
import type { LocalIo } from '../summary.ts';
import type { LocalTimeline } from '../timeline.ts';
import { LOCAL_LISTENER_ARN, type LocalEngine } from './engine.ts';

/**
 * The operator's hands on a local run: the keys (p promotes a gate, a aborts), Ctrl-C (stops the execution as
 * StopExecution would, and the safety net restores the starting weights), and the flags `--abort-at` and
 * `--promote-at`, which act on the phase events.
 */
export function operatorControls(
  options: Pick<LocalOptions, 'abortAt' | 'promoteAt'>,
  io: LocalIo,
  engine: LocalEngine,
  log: LocalTimeline,
  execution: { stop(): void },
): { interrupted(): boolean; stop(): void } {
  const { store, sfn } = engine;
  const operator = { listenerArn: LOCAL_LISTENER_ARN, store, callbacks: sfn };
  const act = operatorAct(operator, log);
  let aborted = false;
  const promoted = new GatePromotions((by) => act('promote', by));
  const onKey = (key: string) => {
    void (async () => {
      const rollout = (await store.get(LOCAL_LISTENER_ARN))?.rollout;
      const lower = key.toLowerCase();
      if (lower === 'p' && rollout?.status === 'gated') {
        await promoted.request(rollout.stepIndex, "key 'p'");
      } else if (
        lower === 'a' &&
        !aborted &&
        rollout &&
        !rollout.outcome &&
        rollout.status !== 'rolling-back'
      ) {
        aborted = true;
        await act('abort', "key 'a'");
      }
    })().catch(() => {});
  };
  const stopKeys = io.keys?.(onKey);

  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    log.record({ kind: 'operator', action: 'interrupt', by: 'Ctrl-C', result: 'execution stopped' });
    // As StopExecution in AWS: the safety net then restores the starting weights.
    execution.stop();
  };
  if (io.interrupt?.aborted) onInterrupt();
  io.interrupt?.addEventListener('abort', onInterrupt, { once: true });

  // The operator flags act on the phase events, not on a poll: a bake too short to be seen, or a gate that
  // follows it, is still met.
  const stopFlags = log.subscribe((event) => {
    if (event.kind !== 'phase') return;
    const waiting = event.status === 'baking' || event.status === 'gated';
    if (options.abortAt !== undefined && !aborted && waiting && event.targetPercent >= options.abortAt) {
      aborted = true;
      void act('abort', '--abort-at');
    }
    if (
      options.promoteAt !== undefined &&
      event.status === 'gated' &&
      event.targetPercent === options.promoteAt
    ) {
      void promoted.request(event.stepIndex, '--promote-at');
    }
  });

  return {
    interrupted: () => interrupted,
    stop: () => {
      stopFlags();
      stopKeys?.();
      io.interrupt?.removeEventListener('abort', onInterrupt);
    },
  };
}
