import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';
import { addTrafficOptions, DEFAULT_PLAN } from './options.ts';

export function registerSchedule(program: Command, deps: CliDeps): void {
  const schedule = program
    .command('schedule')
    .description('Rollouts started by EventBridge Scheduler, once (--at) or recurring (--cron)')
    .addHelpText(
      'after',
      `
Examples:
  $ swing schedule add night-ramp --at 2026-12-01T02:00:00 --timezone Europe/Berlin --plan canary
  $ swing schedule add saturday-ramp --cron "0 2 ? * SAT *" --timezone UTC --plan linear-25
  $ swing schedule list
  $ swing schedule rm saturday-ramp`,
    );

  addTrafficOptions(
    schedule
      .command('add')
      .description('Create a schedule that starts a rollout (or a rehearsal)')
      .argument('<name>', 'schedule name: 1-64 letters, digits, ".", "_" or "-"'),
    'each scheduled run',
  )
    .option(
      '--at <local-date-time>',
      'once, at yyyy-mm-ddThh:mm:ss in --timezone; the schedule then deletes itself',
    )
    .option(
      '--cron <expression>',
      'recurring: six Scheduler cron fields "min hour day-of-month month day-of-week year"',
    )
    .option('--timezone <zone>', 'IANA time zone of --at / --cron', 'UTC')
    .option(
      '--plan <plan>',
      'a preset, a spec like 5:5m,25:10m,100, or { "steps": [...] } JSON',
      DEFAULT_PLAN,
    )
    .option('--description <text>', 'shown in the Scheduler console')
    .option('--gate-timeout <duration>', 'how long a manual gate waits for `swing promote` (default 1h)')
    .option('--gate-action <action>', 'what a gate does when it times out: rollback (default) or promote')
    .addHelpText(
      'after',
      `
The schedule starts the state machine with {"plan": ..., "requestedBy": "schedule:<name>"} (and the traffic
fields given: traffic, then, acceptWritesOnTarget, readsFirst) through the stack's SchedulerRoleArn, retries 3
times within 15 minutes, then goes to the ScheduleDlqArn queue if the stack has one. A scheduled start is
refused like any other while a rollout holds the listener. A rehearsal (--rehearsal) restores the starting
weights after its last step, night after night; in all mode it needs --accept-writes-on-target (refused here,
exit 2, without it; without --traffic, in the stack's default mode).

Examples:
  $ swing schedule add night-ramp --at 2026-12-01T02:00:00 --timezone Europe/Berlin --plan canary
  $ swing schedule add saturday-ramp --cron "0 2 ? * SAT *" --timezone America/New_York --plan '10:10m,50:10m!,100'
  $ swing schedule add nightly-reads --cron "0 3 * * ? *" --plan 5:30m --traffic reads-first --rehearsal`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/schedule.ts')).runScheduleAdd));

  schedule
    .command('list')
    .description("List the schedules that start this stack's state machine")
    .addHelpText('after', '\nExample:\n  $ swing schedule list --json')
    .action(lazyAction(deps, async () => (await import('../commands/schedule.ts')).runScheduleList));

  schedule
    .command('rm')
    .description("Delete a schedule (only one that starts this stack's state machine)")
    .argument('<name>', 'the schedule name')
    .addHelpText('after', '\nExample:\n  $ swing schedule rm saturday-ramp')
    .action(lazyAction(deps, async () => (await import('../commands/schedule.ts')).runScheduleRm));
}
