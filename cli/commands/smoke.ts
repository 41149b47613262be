import { HttpSmokeTester, secretsManagerFetcher } from '#adapters/smoke.ts';
import type { CommandHandler } from '../action.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { table } from '../render.ts';

/** `swing smoke`: see its definition in cli/definitions/smoke.ts. */
export const runSmoke: CommandHandler = async (ctx) => {
  const { smokeConfig } = await ctx.config.require(['smokeConfig']);
  const credentials = ctx.deps.smokeCredentials?.(ctx.awsOptions);
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
};
