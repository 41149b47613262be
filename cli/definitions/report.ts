import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';

export function registerReport(program: Command, deps: CliDeps): void {
  program
    .command('report')
    .description(
      'Write one self-contained HTML report of a rollout execution: weights, traffic, steps, rollback',
    )
    .requiredOption('--execution <name-or-arn>', 'the execution (its name, or its ARN)')
    .option('--out <file>', 'where to write the report (default: <execution name>.html)')
    .addHelpText(
      'after',
      `
Reads the execution's history (GetExecutionHistory) and the two target groups' per-minute ALB metrics
(GetMetricData). The file opens in any browser with no server and no network. Task tokens never reach it.
For a local run, use \`swing local --report FILE\`.

Examples:
  $ swing report --execution migrate-orders-3
  $ swing report --execution arn:aws:states:us-east-1:123456789012:execution:Swing...:migrate-orders-3 --out run.html`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/report.ts')).runReport));
}
