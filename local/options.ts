import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ValidationFailed } from '#domain/errors.ts';
import { resolvePlan } from '#domain/plan.ts';
import { refuseTrafficPlan } from '#domain/reads-first.ts';
import type { AfterCutoverPolicy, Plan, TrafficMode } from '#domain/types.ts';
import { DEFAULT_LOCAL_ALARM_THRESHOLDS, type LocalAlarmThresholds } from './local-alarms.ts';

/** What `swing local` (and `npm start`) accepts, validated before anything starts. */
export interface LocalOptions {
  readonly plan: Plan;
  readonly planSpec: string;
  /** First of three consecutive ports (9200 weighted, +1 source, +2 target); 0 = three ephemeral ports. */
  readonly portBase: number;
  readonly upstreamSource?: string;
  readonly upstreamTarget?: string;
  /** `atCutover`: the fault starts at the write cutover (reads-first), not at a share. */
  readonly targetErrors?: { readonly rate: number; readonly atPercent: number; readonly atCutover?: boolean };
  readonly targetLatency?: { readonly ms: number; readonly atPercent: number; readonly atCutover?: boolean };
  /** `all` splits every request by weight; `reads-first` ramps reads on Swing's rules, then cuts writes over. */
  readonly traffic: TrafficMode;
  /** The plan ends by restoring its starting weights (a rehearsal). */
  readonly rehearsal: boolean;
  readonly acceptWritesOnTarget: boolean;
  /** Reads-first: what cuts writes over (default replay-lag here, so a run needs no key press). */
  readonly cutoverGate: 'manual' | 'replay-lag';
  readonly afterCutover: AfterCutoverPolicy;
  readonly abortAt?: number;
  /** Promote the gate that follows the plan step at this target percent. */
  readonly promoteAt?: number;
  /** The local alarms' thresholds: what counts as an unhealthy target. */
  readonly alarms: LocalAlarmThresholds;
  readonly rate: number;
  readonly writeRatio: number;
  /** How long after the source accepted a write the replayer applies it to the target. */
  readonly replayLagMs: number;
  /**
   * The target path captures too, and a reverse replayer applies what the target accepted onto the source
   * (issue 22): on by default for reads-first runs between the stand-ins, `--reverse-capture` elsewhere.
   */
  readonly reverseCapture: boolean;
  /** How long after the target accepted a write the reverse replayer applies it to the source. */
  readonly reverseLagMs: number;
  /** How long a rollback after the cutover keeps writes frozen waiting for the reverse drain, then restores. */
  readonly drainTimeoutSeconds: number;
  readonly json: boolean;
  readonly seed?: number;
  /** Where to write the HTML report of the run. */
  readonly report?: string;
}

export interface RawLocalOptions {
  plan?: string;
  portBase?: string;
  upstreamSource?: string;
  upstreamTarget?: string;
  targetErrors?: string;
  targetLatency?: string;
  abortAt?: string;
  promoteAt?: string;
  alarm5xxRate?: string;
  alarmP99?: string;
  alarmMinRequests?: string;
  alarmWindow?: string;
  rate?: string;
  writeRatio?: string;
  replayLag?: string;
  /** `--reverse-capture` true, `--no-reverse-capture` false, neither: the mode's default. */
  reverseCapture?: boolean;
  reverseLag?: string;
  drainTimeout?: string;
  traffic?: string;
  rehearsal?: boolean;
  acceptWritesOnTarget?: boolean;
  cutoverGate?: string;
  afterCutover?: string;
  json?: boolean;
  seed?: string;
  report?: string;
}

/** Finishes a full ramp in well under 30 s with a visible bake at each step. */
export const DEFAULT_LOCAL_PLAN = '10:3s,25:3s,50:3s,100:2s';

function numberIn(
  raw: string | undefined,
  flag: string,
  min: number,
  max: number,
  fix: string,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new ValidationFailed([{ field: flag, message: `is '${raw}': ${fix}` }]);
  }
  return value;
}

/**
 * `RATE[@PERCENT]`, e.g. `0.5@50`: the fault starts once the target's share reaches PERCENT (in reads-first, its
 * read share); `RATE@cutover`: once writes are cut over.
 */
function faultSpec(raw: string | undefined, flag: string, valueMax: number, fix: string) {
  if (raw === undefined) return undefined;
  const [value, at, extra] = raw.split('@');
  if (extra !== undefined) throw new ValidationFailed([{ field: flag, message: `is '${raw}': ${fix}` }]);
  const parsedValue = numberIn(value, flag, 0, valueMax, fix);
  if (at === 'cutover') return { value: parsedValue ?? 0, atPercent: 100, atCutover: true };
  const atPercent = at === undefined ? 0 : numberIn(at, flag, 0, 100, fix);
  return { value: parsedValue ?? 0, atPercent: atPercent ?? 0 };
}

function oneOf<T extends string>(
  raw: string | undefined,
  flag: string,
  values: readonly T[],
  fallback: T,
): T {
  if (raw === undefined) return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new ValidationFailed([{ field: flag, message: `is '${raw}': use ${values.join(' or ')}` }]);
}

function url(raw: string | undefined, flag: string): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = new URL(raw);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return raw.replace(/\/$/, '');
  } catch {
    // reported below
  }
  throw new ValidationFailed([
    { field: flag, message: `is '${raw}': give an http(s) URL such as http://127.0.0.1:19200` },
  ]);
}

/** Checked before the run starts, so that a typo in the directory does not cost a whole run. */
function reportPath(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const fix = 'give a file path in an existing directory, e.g. --report run.html';
  if (raw.trim() === '') throw new ValidationFailed([{ field: '--report', message: `is empty: ${fix}` }]);
  const directory = dirname(resolve(raw));
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new ValidationFailed([
      { field: '--report', message: `is '${raw}' but ${directory} is not a directory: ${fix}` },
    ]);
  }
  if (existsSync(raw) && statSync(raw).isDirectory()) {
    throw new ValidationFailed([{ field: '--report', message: `is '${raw}', a directory: ${fix}` }]);
  }
  return raw;
}

export function parseLocalOptions(raw: RawLocalOptions): LocalOptions {
  const planSpec = raw.plan ?? DEFAULT_LOCAL_PLAN;
  const plan = resolvePlan(planSpec, '--plan');
  const portBase =
    numberIn(
      raw.portBase,
      '--port-base',
      0,
      65533,
      'use a port from 1024 to 65533, or 0 for ephemeral ports',
    ) ?? 9200;
  if (portBase !== 0 && (portBase < 1024 || !Number.isInteger(portBase))) {
    throw new ValidationFailed([
      { field: '--port-base', message: `is '${raw.portBase}': use a whole port from 1024 to 65533, or 0` },
    ]);
  }
  const upstreamSource = url(raw.upstreamSource, '--upstream-source');
  const upstreamTarget = url(raw.upstreamTarget, '--upstream-target');
  if ((upstreamSource === undefined) !== (upstreamTarget === undefined)) {
    throw new ValidationFailed([
      {
        field: upstreamSource ? '--upstream-target' : '--upstream-source',
        message:
          'is missing: give both --upstream-source and --upstream-target, or neither for the stand-ins',
      },
    ]);
  }
  const errors = faultSpec(
    raw.targetErrors,
    '--target-errors',
    1,
    'use RATE[@PERCENT] with RATE in 0..1, e.g. 0.5@50, or RATE@cutover (reads-first)',
  );
  const latency = faultSpec(
    raw.targetLatency,
    '--target-latency',
    60_000,
    'use MS[@PERCENT], e.g. 1500@25, or MS@cutover (reads-first)',
  );
  const traffic = oneOf(raw.traffic, '--traffic', ['all', 'reads-first'] as const, 'all');
  const rehearsal = raw.rehearsal ?? false;
  const acceptWritesOnTarget = raw.acceptWritesOnTarget ?? false;
  const atCutover = errors?.atCutover
    ? '--target-errors'
    : latency?.atCutover
      ? '--target-latency'
      : undefined;
  if (atCutover && (traffic !== 'reads-first' || rehearsal)) {
    throw new ValidationFailed([
      {
        field: atCutover,
        message:
          '@cutover needs a write cutover: use it with --traffic reads-first and without --rehearsal, or give a percent',
      },
    ]);
  }
  refuseTrafficPlan({
    traffic,
    planEnd: rehearsal ? 'restore' : 'hold',
    acceptWritesOnTarget,
    steps: plan.steps,
  });
  if ((errors || latency) && upstreamSource) {
    throw new ValidationFailed([
      {
        field: errors ? '--target-errors' : '--target-latency',
        message:
          'works only with the built-in stand-ins: drop --upstream-source/--upstream-target to inject faults',
      },
    ]);
  }
  const abortAt = numberIn(raw.abortAt, '--abort-at', 0.1, 100, 'use a target percent in (0, 100], e.g. 50');
  const promoteAt = numberIn(
    raw.promoteAt,
    '--promote-at',
    0.1,
    100,
    'use the target percent of a plan step with a gate, e.g. 10 for --plan 10:5s!,100',
  );
  if (promoteAt !== undefined && !plan.steps.some((step) => step.targetPercent === promoteAt && step.gate)) {
    const gated = plan.steps.filter((step) => step.gate).map((step) => `${step.targetPercent}`);
    throw new ValidationFailed([
      {
        field: '--promote-at',
        message:
          `is '${raw.promoteAt}': no gate follows a ${promoteAt} % step of the plan: ` +
          (gated.length > 0
            ? `use the percent of a gated step (${gated.join(', ')})`
            : `mark a step with a gate (e.g. --plan '${promoteAt}:5s!,100') or drop --promote-at`),
      },
    ]);
  }
  const alarms = alarmThresholds(raw);
  const rate = numberIn(raw.rate, '--rate', 1, 2000, 'use requests per second from 1 to 2000') ?? 100;
  const writeRatio =
    numberIn(raw.writeRatio, '--write-ratio', 0, 1, 'use a fraction from 0 to 1, e.g. 0.2') ?? 0.2;
  const replayLagMs = replayLag(raw.replayLag);
  if (raw.replayLag !== undefined && upstreamSource) {
    throw new ValidationFailed([
      {
        field: '--replay-lag',
        message:
          'works only with the built-in stand-ins (their capture proxy replays the writes): drop --upstream-source/--upstream-target or --replay-lag',
      },
    ]);
  }
  const reverse = reverseCaptureOptions(raw, traffic, upstreamSource !== undefined);
  const seed = numberIn(raw.seed, '--seed', 0, 2 ** 31, 'use a whole number');
  const report = reportPath(raw.report);
  return {
    plan,
    planSpec,
    portBase,
    ...(upstreamSource && upstreamTarget ? { upstreamSource, upstreamTarget } : {}),
    ...(errors
      ? { targetErrors: { rate: errors.value, atPercent: errors.atPercent, atCutover: !!errors.atCutover } }
      : {}),
    ...(latency
      ? { targetLatency: { ms: latency.value, atPercent: latency.atPercent, atCutover: !!latency.atCutover } }
      : {}),
    traffic,
    rehearsal,
    acceptWritesOnTarget,
    cutoverGate: oneOf(raw.cutoverGate, '--cutover-gate', ['manual', 'replay-lag'] as const, 'replay-lag'),
    afterCutover: oneOf(raw.afterCutover, '--after-cutover', ['rollback', 'hold'] as const, 'rollback'),
    ...(abortAt !== undefined ? { abortAt } : {}),
    ...(promoteAt !== undefined ? { promoteAt } : {}),
    alarms,
    rate,
    writeRatio,
    replayLagMs,
    ...reverse,
    json: raw.json ?? false,
    ...(seed !== undefined ? { seed } : {}),
    ...(report ? { report } : {}),
  };
}

/** Default 100 ms: the replayer keeps up, a little behind, as the Migration Assistant's does when healthy. */
export const DEFAULT_REPLAY_LAG_MS = 100;

/** `100ms`, `2s`, `1m` or plain seconds, from 0 to 60 s. */
function replayLag(raw: string | undefined, flag = '--replay-lag'): number {
  if (raw === undefined) return DEFAULT_REPLAY_LAG_MS;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  const value = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!match || !(value >= 0 && value <= 60_000)) {
    throw new ValidationFailed([
      { field: flag, message: `is '${raw}': use a duration from 0ms to 60s, e.g. 100ms or 2s` },
    ]);
  }
  return Math.round(value);
}

/**
 * Reverse capture: on by default for reads-first between the stand-ins (its writes move to the target at the
 * cutover, and a rollback after it must bring them back); it needs the stand-ins, whose target path it wraps.
 */
function reverseCaptureOptions(
  raw: RawLocalOptions,
  traffic: TrafficMode,
  upstream: boolean,
): { reverseCapture: boolean; reverseLagMs: number; drainTimeoutSeconds: number } {
  const fix = "the target path that captures is the stand-ins': drop --upstream-source/--upstream-target";
  if (upstream && (raw.reverseCapture === true || raw.reverseLag !== undefined)) {
    const field = raw.reverseCapture === true ? '--reverse-capture' : '--reverse-lag';
    throw new ValidationFailed([{ field, message: `works only with the built-in stand-ins: ${fix}` }]);
  }
  const reverseCapture = raw.reverseCapture ?? (traffic === 'reads-first' && !upstream);
  if (!reverseCapture && raw.reverseLag !== undefined) {
    throw new ValidationFailed([
      {
        field: '--reverse-lag',
        message: 'is given without reverse capture: drop --no-reverse-capture or --reverse-lag',
      },
    ]);
  }
  if (!reverseCapture && raw.drainTimeout !== undefined) {
    throw new ValidationFailed([
      {
        field: '--drain-timeout',
        message: 'is given without reverse capture: drop --no-reverse-capture or --drain-timeout',
      },
    ]);
  }
  const drainTimeoutSeconds =
    wholeNumberIn(
      raw.drainTimeout,
      '--drain-timeout',
      5,
      900,
      'use whole seconds from 5 to 900, as REVERSE_DRAIN_TIMEOUT_SECONDS, e.g. 30',
    ) ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
  return { reverseCapture, reverseLagMs: replayLag(raw.reverseLag, '--reverse-lag'), drainTimeoutSeconds };
}

/** As REVERSE_DRAIN_TIMEOUT_SECONDS' default on AWS. */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 60;

/** `3s`, `500ms`, `1m` or plain seconds. */
function durationMs(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  const value = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!match || value < 500 || value > 600_000) {
    throw new ValidationFailed([
      { field: flag, message: `is '${raw}': use a window from 500ms to 10m, e.g. 3s` },
    ]);
  }
  return value;
}

function wholeNumberIn(raw: string | undefined, flag: string, min: number, max: number, fix: string) {
  const value = numberIn(raw, flag, min, max, fix);
  if (value !== undefined && !Number.isInteger(value)) {
    throw new ValidationFailed([{ field: flag, message: `is '${raw}': ${fix}` }]);
  }
  return value;
}

function alarmThresholds(raw: RawLocalOptions): LocalAlarmThresholds {
  const defaults = DEFAULT_LOCAL_ALARM_THRESHOLDS;
  return {
    errorRate:
      numberIn(raw.alarm5xxRate, '--alarm-5xx-rate', 0, 1, 'use a fraction from 0 to 1, e.g. 0.05 for 5 %') ??
      defaults.errorRate,
    p99LatencyMs:
      numberIn(raw.alarmP99, '--alarm-p99', 1, 600_000, 'use milliseconds from 1 to 600000, e.g. 1000') ??
      defaults.p99LatencyMs,
    minRequests:
      wholeNumberIn(
        raw.alarmMinRequests,
        '--alarm-min-requests',
        1,
        1_000_000,
        'use a whole number of requests, e.g. 20',
      ) ?? defaults.minRequests,
    windowMs: durationMs(raw.alarmWindow, '--alarm-window') ?? defaults.windowMs,
  };
}
