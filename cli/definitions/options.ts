import type { Command } from 'commander';

/** The flags and defaults that several commands' definitions share (loaded for every `--help`: nothing heavy). */

export const DEFAULT_PLAN = 'canary';

/** `--smoke-auth` of `swing init`. */
export const AUTH_HELP =
  "none, basic:<Secrets Manager ARN of {username,password}>, sigv4:es or sigv4:aoss (the clusters' own auth)";

/** A repeatable flag's values, in order. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

export const DEFAULT_INTERVAL = '5s';
export const DEFAULT_MAX_WAIT = '24h';

/** `--watch`, `--interval`, `--max-wait`, shared by status, start and abort. */
export function addWatchOptions(command: Command, what: string): Command {
  return command
    .option('--watch', what)
    .option('--interval <duration>', 'refresh interval while watching', DEFAULT_INTERVAL)
    .option('--max-wait <duration>', 'stop watching after this long (exit 5)', DEFAULT_MAX_WAIT);
}

/** The traffic flags of `start`, `plan` and `schedule add`; checked by `trafficChoice` (cli/traffic.ts). */
export function addTrafficOptions(command: Command, what = 'the rollout'): Command {
  return command
    .option(
      '--traffic <mode>',
      `reads-first (reads ramp, writes stay on the source until the write cutover, the last step) or all (every request split by weight); default: the stack's`,
    )
    .option(
      '--rehearsal',
      `${what} ends by restoring its starting weights (outcome rehearsed); in reads-first mode it never cuts writes over`,
    )
    .option(
      '--accept-writes-on-target',
      'required for a rehearsal in all mode: writes sent to the target stay there after the restore',
    )
    .option(
      '--cutover-gate <gate>',
      'reads-first: manual (`swing promote` cuts writes over) or replay-lag (once the replayer has caught up)',
    )
    .option(
      '--after-cutover <policy>',
      'reads-first: a failure after the cutover rolls back (rollback, the write exposure reported) or holds writes on the target (hold)',
    )
    .option(
      '--scroll-keep-alive <duration>',
      'reads-first: how long scroll contexts stay pinned to the source after the cutover, e.g. 5m',
    )
    .option('--rule-priority <n>', "reads-first: Swing's first listener rule priority (it takes 7 from it)");
}
