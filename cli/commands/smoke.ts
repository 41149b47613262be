import type { Command } from 'commander';
import { HttpSmokeTester, secretsManagerFetcher } from '#adapters/smoke.ts';
import { action } from '../action.ts';
import type { CliDeps } from '../deps.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { table } from '../render.ts';

export function registerSmoke(program: Command, deps: CliDeps): void {
  program
    .command('smoke')
    .description('Run the smoke checks now against the source-only and target-only smoke endpoints')
    .addHelpText(
      'after',
      `
The checks run from this machine: it must reach the smoke endpoints of the stack's SmokeConfig output
(or of --smoke-config). Basic-auth secrets are read from Secrets Manager and never printed. Exit 1 if any
check fails.

Examples:
  $ swing smoke
  $ swing smoke --smoke-config @smoke.json --json`,
    )
    .action(
      action(deps, async (ctx) => {
        const { smokeConfig } = await ctx.config.require(['smokeConfig']);
        const credentials = deps.smokeCredentials?.(ctx.awsOptions);
        const tester = new HttpSmokeTester(smokeConfig, {
          fetchSecret: secretsManagerFetcher(ctx.clients.secretsManager),
          ...(credentials ? { credentials } : {}),
        });
        const report = await tester.run();
        const failed = report.results.filter((result) => !result.ok);
        ctx.result(
          {
            ok: report.ok,
            sourceEndpoint: smokeConfig.sourceEndpoint,
            targetEndpoint: smokeConfig.targetEndpoint,
            results: report.results,
          },
          () =>
            [
              `Source ${smokeConfig.sourceEndpoint}   Target ${smokeConfig.targetEndpoint}`,
              table(
                ['CHECK', 'PATH', 'RESULT', 'TIME', 'DETAIL'],
                report.results.map((result) => [
                  result.name,
                  result.path,
                  result.ok ? 'ok' : 'FAIL',
                  result.path === 'compare' ? '-' : `${result.durationMs} ms`,
                  result.detail,
                ]),
              ),
              report.ok ? `All ${report.results.length} checks passed.` : '',
            ]
              .filter((line) => line !== '')
              .join('\n'),
        );
        if (!report.ok) {
          throw new CliFailure(
            ExitCodes.RolledBackOrRefused,
            `${failed.length} of ${report.results.length} smoke checks failed (${failed
              .map((result) => `${result.path} ${result.name}`)
              .join(', ')}): a rollout would stop before any weight change; fix the paths first`,
          );
        }
      }),
    );
}
