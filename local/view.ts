import ansiEscapes from 'ansi-escapes';
import cliTruncate from 'cli-truncate';
import { createLogUpdate } from 'log-update';
import { createColors } from 'picocolors';
import stringWidth from 'string-width';
import wrapAnsi from 'wrap-ansi';
import { formatDuration } from '#domain/plan.ts';
import type {
  AlarmEvaluation,
  Plan,
  ReverseReplayVerdict,
  RollbackReason,
  Rollout,
  RolloutStatus,
  TrafficMode,
  Weights,
} from '#domain/types.ts';
import { formatWeights, weightsToPercent } from '#domain/weights.ts';
import { printableDeep } from '#report/printable.ts';
import { AlarmLines, alarmChangeLogged } from './alarm-lines.ts';
import type { EventSource, LocalEvent } from './events.ts';
import { freezeEventText, freezeFrameLine } from './freeze-text.ts';
import { cutoverGateWarning, ExposureFromWrites, readsFirstLines } from './reads-first-frame.ts';
import type { LocalIo, LocalSummary } from './summary.ts';
import { summaryLines } from './summary-text.ts';

interface WindowSource {
  window(
    group: 'source' | 'target',
    ms: number,
  ): { requests: number; errorRate: number; p99LatencyMs: number };
}

export interface Frame {
  readonly rollout: Rollout | undefined;
  readonly weights: Weights;
  readonly alb: WindowSource;
  readonly alarms: AlarmEvaluation;
  readonly traffic: { sent: number; failed: number };
  /** With reverse capture: the reverse replayer's drain, as its lag check reads it. */
  readonly reverse?: ReverseReplayVerdict;
}

export interface LiveViewOptions {
  readonly io: LocalIo;
  readonly json: boolean;
  readonly plan: Plan;
  readonly log: EventSource;
  /** The gate `--promote-at` passes, so that the gate line can say it will be promoted. */
  readonly promoteAt?: number;
  /** Reads-first draws the read share and the write share apart, and the phase. Default all. */
  readonly traffic?: TrafficMode;
  /** The target path captures: a rollback after the cutover freezes writes and replays them onto the source. */
  readonly reverseCapture?: boolean;
}

type Colors = ReturnType<typeof createColors>;

const WINDOW_MS = 2000;
/** Below this the frame is not worth drawing: event lines still tell the story. */
const MIN_COLUMNS = 20;

/** Colour on a terminal unless NO_COLOR is set to anything but '' (no-color.org). */
export function colorEnabled(io: Pick<LocalIo, 'isTTY' | 'env'>): boolean {
  const env = io.env ?? process.env;
  return io.isTTY && !env.NO_COLOR;
}

function bar(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : formatDuration(Math.ceil(ms / 1000));
}

const STATUS_WORDS: Record<RolloutStatus, string> = {
  preflight: 'PREFLIGHT',
  'smoke-testing': 'SMOKE TEST',
  shifting: 'SHIFTING',
  baking: 'BAKING',
  gated: 'GATE',
  paused: 'PAUSED',
  'waiting-replay': 'WAITING FOR REPLAY',
  'rolling-back': 'ROLLING BACK',
  completing: 'COMPLETING',
  completed: 'COMPLETED',
  'rolled-back': 'ROLLED BACK',
  rehearsed: 'REHEARSED',
  halted: 'HALTED',
  refused: 'REFUSED',
};

/** Where the frame offers no abort key: a gate has its own prompt; a rollback or an end has nothing to abort. */
const NO_ABORT = new Set<RolloutStatus | 'starting'>([
  'gated',
  'rolling-back',
  'rolled-back',
  'completed',
  'halted',
  'refused',
  'rehearsed',
]);

function statusColor(status: RolloutStatus | 'starting', c: Colors): (text: string) => string {
  switch (status) {
    case 'rolling-back':
    case 'rolled-back':
    case 'halted':
    case 'refused':
      return (text) => c.bold(c.red(text));
    case 'gated':
    case 'paused':
      return (text) => c.bold(c.yellow(text));
    case 'completed':
    case 'completing':
      return (text) => c.bold(c.green(text));
    default:
      return (text) => c.bold(c.cyan(text));
  }
}

function alarmColor(state: string, c: Colors): (text: string) => string {
  if (state === 'ALARM') return (text) => c.bold(c.red(text));
  if (state === 'OK') return c.green;
  return c.yellow;
}

function stepText(stepIndex: number, steps: number): string {
  return `step ${Math.min(stepIndex + 1, steps)}/${steps}`;
}

/** Why a rollout rolled back: the alarm by name (its cause usually starts with it), or the error. */
function reasonText(reason: RollbackReason): string {
  if (!reason.alarm) return `${reason.error}: ${reason.cause}`;
  return reason.cause.startsWith(reason.alarm)
    ? `alarm ${reason.cause}`
    : `alarm ${reason.alarm}: ${reason.cause}`;
}

/** How to pass a gate, as the gate line and the gate event say it. */
function gateHint(keys: boolean, percent: number, promoteAt: number | undefined, cutover = false): string {
  if (promoteAt === percent) return 'promoting it (--promote-at)';
  if (keys) return cutover ? 'press p to cut the writes over, a to abort' : 'press p to promote, a to abort';
  return `waiting for promote: run with --promote-at ${percent} to pass it`;
}

/** What an event's words depend on: keys to press, `--promote-at`, reverse capture. */
interface EventContext {
  readonly keys: boolean;
  readonly promoteAt?: number;
  readonly reverseCapture?: boolean;
}

/** An event as one line of text, and how loud it is; text from outside Swing in it is made printable first. */
export function describeEvent(
  event: LocalEvent,
  context: EventContext,
): { text: string; tone: 'info' | 'good' | 'warn' | 'bad' } {
  return describePrintableEvent(printableDeep(event), context);
}

function describePrintableEvent(
  event: LocalEvent,
  context: EventContext,
): { text: string; tone: 'info' | 'good' | 'warn' | 'bad' } {
  switch (event.kind) {
    case 'phase': {
      const step = stepText(event.stepIndex, event.steps);
      const left = event.endsAt ? Math.max(0, Date.parse(event.endsAt) - Date.parse(event.at)) : undefined;
      const reason = event.reason ? reasonText(event.reason) : '';
      switch (event.status) {
        case 'preflight':
          return { text: 'preflight', tone: 'info' };
        case 'smoke-testing':
          return { text: 'smoke test of the source (9201) and target (9202) paths', tone: 'info' };
        case 'shifting':
          if (event.stepKind === 'pins') {
            return { text: `${step}: the pins go: pinned reads move to the target`, tone: 'info' };
          }
          if (event.stepKind === 'cutover') {
            return {
              text: `${step}: WRITE CUTOVER: writes move to the target, ${context.reverseCapture ? 'replayed onto the source from now' : 'on the target only from now'}`,
              tone: 'warn',
            };
          }
          return {
            text: `${step}: shifting ${event.stepKind === 'reads' ? 'reads ' : ''}to ${event.targetPercent} % on the target`,
            tone: 'info',
          };
        case 'baking':
          return event.stepKind === 'pins'
            ? {
                text: `${step}: pins gone, the pinned reads bake on the target for ${formatDuration(event.bakeSeconds ?? 0)} under alarm watch`,
                tone: 'info',
              }
            : {
                text: `${step}: baking at ${event.targetPercent} % for ${formatDuration(event.bakeSeconds ?? 0)}`,
                tone: 'info',
              };
        case 'baked':
          return { text: `${step}: baked at ${event.targetPercent} % with no alarm`, tone: 'good' };
        case 'gated':
          if (event.cutoverGate) {
            return {
              text: `${step}: CUTOVER GATE: ${cutoverGateWarning(context.reverseCapture === true)}; ${gateHint(context.keys, event.targetPercent, context.promoteAt, true)}`,
              tone: 'warn',
            };
          }
          return {
            text:
              `${step}: GATE at ${event.targetPercent} %: ${gateHint(context.keys, event.targetPercent, context.promoteAt)}` +
              `${left !== undefined ? `; rolls back in ${seconds(left)} if nobody does` : ''}`,
            tone: 'warn',
          };
        case 'rolling-back':
          return { text: `ROLLING BACK: ${reason || 'no reason recorded'}`, tone: 'bad' };
        case 'completing':
          return { text: 'completing: the final weights are verified', tone: 'info' };
        case 'completed':
          return { text: `COMPLETED at ${event.targetPercent} % on the target`, tone: 'good' };
        case 'rolled-back':
          return {
            text: `ROLLED BACK: the starting weights are restored (${event.targetPercent} % on the target)`,
            tone: 'bad',
          };
        case 'halted':
          return { text: `HALTED: ${reason || 'no reason recorded'}`, tone: 'bad' };
        case 'refused':
          return { text: `REFUSED: ${reason || 'no reason recorded'}`, tone: 'bad' };
      }
      return { text: event.status, tone: 'info' };
    }
    case 'smoke':
      return event.ok
        ? { text: `smoke test passed: ${event.detail}`, tone: 'good' }
        : { text: `smoke test FAILED, no weight changed: ${event.detail}`, tone: 'bad' };
    case 'weights':
      return {
        text: `weights: ${formatWeights(event.weights)}`,
        tone: 'info',
      };
    case 'alarm':
      return {
        text: `alarm ${event.alarm} ${event.previous} -> ${event.state}: ${event.reason}`,
        tone: event.state === 'ALARM' ? 'bad' : event.state === 'OK' ? 'good' : 'info',
      };
    case 'operator':
      return event.action === 'interrupt'
        ? {
            text: 'Ctrl-C: stopping the execution; the safety net restores the starting weights',
            tone: 'warn',
          }
        : { text: `${event.action} by ${event.by}: ${event.result}`, tone: 'warn' };
    case 'fault':
      return { text: `fault injected: ${event.detail}`, tone: 'warn' };
    case 'freeze':
      return freezeEventText(event);
  }
}

/** Wrapped to `width`, continuation lines indented by `indent`: nothing cut, nothing wider than the terminal. */
function hanging(text: string, width: number, indent: number): string {
  const lead = text.match(/^ */)?.[0] ?? '';
  const body = text.slice(lead.length);
  const [first = '', ...rest] = wrapAnsi(body, width - lead.length, { hard: true, trim: true }).split('\n');
  if (rest.length === 0) return `${lead}${first}`;
  const tail = wrapAnsi(rest.join(' '), width - indent, { hard: true, trim: true })
    .split('\n')
    .map((line) => `${' '.repeat(indent)}${line}`);
  return [`${lead}${first}`, ...tail].join('\n');
}

/** `HH:MM:SS.mmm` in UTC: the date is the same for a whole local run. */
function clock(iso: string): string {
  return iso.slice(11, 23);
}

/**
 * The terminal view of a local run. On a terminal: each event as a line that stays, and below them a live
 * frame redrawn in place (log-update), fitted to the terminal's width. Without a terminal: one timestamped
 * line per event. With --json: nothing until the summary.
 */
export class LiveView {
  private readonly io: LocalIo;
  private readonly c: Colors;
  private readonly logUpdate: ReturnType<typeof createLogUpdate> | undefined;
  private readonly keys: boolean;
  private lastFrame: Frame | undefined;
  /** The newest phase event: fresher than the record a frame polled, so no frame draws a phase already left. */
  private phase: Extract<LocalEvent, { kind: 'phase' }> | undefined;
  private drawn: string[] = [];
  private readonly alarmLines = new AlarmLines();
  private readonly exposure = new ExposureFromWrites();
  private readonly unsubscribe: () => void;
  private readonly onResize = () => this.resized();

  constructor(private readonly options: LiveViewOptions) {
    this.io = options.io;
    this.c = createColors(colorEnabled(this.io));
    this.keys = Boolean(this.io.keys);
    const io = this.io;
    if (io.isTTY && !options.json) {
      // log-update measures and erases on a stream: this one writes through io and reads io's terminal size.
      const stream = {
        isTTY: true,
        get columns() {
          return io.terminal?.columns ?? 80;
        },
        get rows() {
          return io.terminal?.rows ?? 24;
        },
        write: (text: string) => {
          io.stdout(text);
          return true;
        },
      };
      this.logUpdate = createLogUpdate(stream as unknown as NodeJS.WriteStream, { showCursor: true });
      io.terminal?.on('resize', this.onResize);
    }
    this.unsubscribe = options.log.subscribe((event) => this.event(event));
    options.io.forceStop?.addEventListener('abort', () => this.abandon(), { once: true });
  }

  /**
   * A second Ctrl-C ends the process before the run can summarize: the live panel goes (it would stand stale
   * on screen), and two lines say what is known, the weights last seen and the exit code.
   */
  private abandon(): void {
    this.unsubscribe();
    this.io.terminal?.off('resize', this.onResize);
    const weights = this.lastFrame ? formatWeights(this.lastFrame.weights) : 'not read yet';
    if (this.options.json) {
      this.io.stdout(
        `${JSON.stringify({ outcome: 'interrupted', forced: true, lastSeenWeights: this.lastFrame?.weights ?? null })}\n`,
      );
      return;
    }
    this.logUpdate?.clear();
    this.logUpdate?.done();
    const lines = [
      `second Ctrl-C: stopped at once, without waiting for the safety net's restore; weights last seen: ${weights}`,
      'outcome: interrupted (exit code 130)',
    ];
    const text = this.logUpdate ? lines.map((line) => hanging(line, this.columns, 2)) : lines;
    this.io.stdout(`${text.join('\n')}\n`);
  }

  private get columns(): number {
    return Math.max(MIN_COLUMNS, this.io.terminal?.columns ?? 80);
  }

  private event(event: LocalEvent): void {
    if (this.options.json) return;
    if (event.kind === 'phase') this.phase = event;
    this.exposure.seen(event);
    // A weight write is fresher than the last polled frame: the frame redrawn below must not contradict it.
    if (event.kind === 'weights' && this.lastFrame)
      this.lastFrame = { ...this.lastFrame, weights: event.weights };
    if (event.kind === 'alarm') {
      this.alarmLines.changed(event);
      // On a terminal an OK <-> INSUFFICIENT_DATA move only updates the alarm's panel line (next frame).
      if (this.logUpdate && !alarmChangeLogged(event)) return;
    }
    const { text, tone } = describeEvent(event, {
      keys: this.keys,
      reverseCapture: this.options.reverseCapture === true,
      ...(this.options.promoteAt !== undefined ? { promoteAt: this.options.promoteAt } : {}),
    });
    if (!this.logUpdate) {
      this.io.stdout(`${event.at} ${text}\n`);
      return;
    }
    const c = this.c;
    const paint = {
      info: (t: string) => t,
      good: c.green,
      warn: c.yellow,
      bad: (t: string) => c.bold(c.red(t)),
    }[tone];
    const stamp = `${clock(event.at)} `;
    // Wrapped, never cut: an alarm's reason matters in full. Continuation lines hang under the text.
    const wrapped = wrapAnsi(text, this.columns - stamp.length, { hard: true, trim: true })
      .split('\n')
      .map((line, index) => `${index === 0 ? c.dim(stamp) : ' '.repeat(stamp.length)}${paint(line)}`);
    this.logUpdate.clear();
    this.drawn = [];
    this.io.stdout(`${wrapped.join('\n')}\n`);
    if (this.lastFrame) this.draw(this.lastFrame);
  }

  /** A line said once, before the frames (the all-mode warning): wrapped to the terminal, never in --json. */
  notice(text: string | undefined): void {
    if (!text || this.options.json) return;
    if (!this.logUpdate) {
      this.io.stdout(`${text}\n`);
      return;
    }
    this.io.stdout(`${this.c.yellow(hanging(text, this.columns, 2))}\n`);
  }

  /** A new live frame: drawn on a terminal only. */
  render(frame: Frame): void {
    this.lastFrame = frame;
    if (this.logUpdate) this.draw(frame);
  }

  private draw(frame: Frame): void {
    const lines = this.frameLines(frame).map((line) => cliTruncate(line, this.columns));
    this.logUpdate?.(lines.join('\n'));
    this.drawn = lines;
  }

  /**
   * A narrower terminal rewraps the frame already drawn, so it now takes more rows than log-update counted:
   * erase the rows it really takes at the new width, then draw afresh.
   */
  private resized(): void {
    if (!this.logUpdate || this.drawn.length === 0) return;
    const width = Math.max(1, this.io.terminal?.columns ?? 80);
    const rows = this.drawn.reduce((sum, line) => sum + Math.max(1, Math.ceil(stringWidth(line) / width)), 0);
    this.io.stdout(ansiEscapes.eraseLines(rows + 1));
    this.logUpdate.done();
    this.drawn = [];
    if (this.lastFrame) this.draw(this.lastFrame);
  }

  frameLines(frame: Frame): string[] {
    const c = this.c;
    const width = this.columns;
    const { rollout, weights } = frame;
    const readsFirst = (rollout?.traffic ?? this.options.traffic) === 'reads-first';
    const phase = this.phase;
    const steps = phase?.steps ?? this.options.plan.steps.length + (readsFirst ? 1 : 0);
    const index = phase?.stepIndex ?? rollout?.stepIndex ?? 0;
    const share = weightsToPercent(weights);
    const status: RolloutStatus | 'starting' =
      phase && phase.status !== 'baked' ? phase.status : (rollout?.status ?? 'starting');
    const word = status === 'starting' ? 'STARTING' : STATUS_WORDS[status];
    const barWidth = Math.max(10, Math.min(30, width - 40));

    const header = `Swing local  ${statusColor(status, c)(word)}  ${stepText(index, steps)}`;
    const ramp = readsFirst
      ? readsFirstLines({
          rollout,
          weights,
          status,
          cutoverGate: phase?.cutoverGate === true,
          bar: (fraction) => bar(fraction, barWidth),
          exposureMs: this.exposure.ms(),
          cutoverWriteAt: this.exposure.cutoverAt(),
          reverseCapture: frame.reverse !== undefined,
        })
      : [`ramp     ${bar(share / 100, barWidth)} ${share.toFixed(1)} % target`];
    const weightsLine = `weights  ${formatWeights(weights)}`;
    const lines = [header, ...ramp, weightsLine];

    const now = Date.now();
    const left = rollout?.bakeEndsAt ? Math.max(0, Date.parse(rollout.bakeEndsAt) - now) : undefined;
    if (status === 'baking' && left !== undefined) {
      const total = (phase?.bakeSeconds ?? this.options.plan.steps[index]?.bakeSeconds ?? 1) * 1000 || 1000;
      lines.push(`bake     ${bar(1 - left / total, barWidth)} ${seconds(left)} left`);
    } else if (status === 'gated') {
      const percent = this.options.plan.steps[index]?.targetPercent ?? share;
      const timeout = left !== undefined ? `; rolls back in ${seconds(left)}` : '';
      const hint = gateHint(this.keys, percent, this.options.promoteAt, phase?.cutoverGate === true);
      lines.push(c.yellow(`gate     ${hint}${timeout}`));
    } else if (
      (status === 'rolling-back' || status === 'rolled-back' || status === 'halted') &&
      (phase?.reason ?? rollout?.reason)
    ) {
      lines.push(c.red(`why      ${reasonText((phase?.reason ?? rollout?.reason)!)}`));
    } else if (status === 'smoke-testing') {
      lines.push('smoke    checking the source (9201) and target (9202) paths');
    }
    const freeze = freezeFrameLine(rollout?.freeze, frame.reverse, now);
    if (freeze) lines.push(rollout?.freeze?.liftedAt ? freeze : c.yellow(freeze));

    for (const group of ['source', 'target'] as const) {
      const window = frame.alb.window(group, WINDOW_MS);
      const perSecond = Math.round(window.requests / (WINDOW_MS / 1000));
      const errors = `${(window.errorRate * 100).toFixed(1).padStart(5)} % 5xx`;
      lines.push(
        `${group.padEnd(9)}${String(perSecond).padStart(5)} req/s  ${window.errorRate > 0 ? c.red(errors) : errors}  ` +
          `p99 ${String(Math.round(window.p99LatencyMs)).padStart(5)} ms`,
      );
    }
    lines.push(...this.alarmLines.lines(frame.alarms.alarms, now, (state) => alarmColor(state, c)(state)));
    lines.push(`clients  ${frame.traffic.sent} sent, ${frame.traffic.failed} failed`);
    if (this.keys && !NO_ABORT.has(status) && !rollout?.outcome)
      lines.push(c.dim('keys     a aborts, Ctrl-C stops'));
    return lines;
  }

  finish(summary: LocalSummary): void {
    this.unsubscribe();
    this.io.terminal?.off('resize', this.onResize);
    if (this.options.json) {
      this.io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    // The last frame stays on screen (it shows how the run ended); the summary goes below it.
    this.logUpdate?.done();
    const out = summaryLines(summary, this.c);
    const text = this.logUpdate
      ? out.map((line) => hanging(line, this.columns, line.startsWith('  ') ? 4 : 2)).join('\n')
      : out.join('\n');
    this.io.stdout(`${text}\n`);
  }
}
