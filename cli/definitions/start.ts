import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';
import { addTrafficOptions, addWatchOptions, DEFAULT_PLAN } from './options.ts';

export function registerStart(program: Command, deps: CliDeps): void {
  addWatchOptions(
    addTrafficOptions(
      program
        .command('start')
        .description('Start a rollout: smoke test both paths, then shift the weights step by step')
        .option(
          '--plan <plan>',
          'a preset, a spec like 5:5m,25:10m,50:10m!,100, or { "steps": [...] } JSON',
          DEFAULT_PLAN,
        )
        .option('--name <name>', 'execution name (1-80 letters, digits, "-" or "_"); default: generated')
        .option(
          '--dry-run',
          'check and print what would start, starting nothing; without AWS access it checks the plan and flags and names what it skipped',
        )
        .option('--gate-timeout <duration>', 'how long a manual gate waits for `swing promote` (default 1h)')
        .option(
          '--gate-action <action>',
          'what a gate does when it times out: rollback (default) or promote',
        ),
    ),
    'after starting, refresh until the rollout ends and exit with its outcome',
  )
    .addHelpText(
      'after',
      `
Refused (exit 1) while another rollout holds the listener (the state machine takes the lock atomically anyway)
or when the listener's shape cannot be swung; exit 2 for a bad plan, including one whose first step is below
the target's current share. Needs the listener's target groups (stack outputs or flags) to read its weights.

Traffic: without --traffic the stack's default mode applies (its ReadsFirstDefaults output; all when the stack
does not say). In all mode every request is split by weight, so writes reach the target from the first step
and are not captured for the source: swing start says so. In reads-first mode the steps move reads only and
the write cutover comes last, behind its own gate; the start is refused (exit 1) while the target gets any
share of the default action (swing set-weights --target 0) or when Swing's listener rules would conflict with
the listener's (at --rule-priority, else the stack's). A rehearsal (--rehearsal) restores the starting weights
at its end (outcome rehearsed); in all mode it needs --accept-writes-on-target (exit 2 without it).

--dry-run starts nothing. Without AWS access (no region, no credentials, no such stack) it still checks the plan,
the gate, the traffic mode's rules and the flags, and names the checks that need the stack and its listener.

Examples:
  $ swing start --plan canary --dry-run
  $ swing start --plan '5:5m,25:10m,50:10m!,100' --name migrate-orders --watch
  $ swing start --plan linear-25 --gate-timeout 2h --gate-action rollback
  $ swing start --plan '5:10m,25:10m,100' --traffic reads-first --cutover-gate manual --dry-run
  $ swing start --plan 5:30m --traffic reads-first --rehearsal`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/start.ts')).runStart));
}
