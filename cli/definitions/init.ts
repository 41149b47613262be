import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';
import { AUTH_HELP, collect } from './options.ts';

export function registerInit(program: Command, deps: CliDeps): void {
  program
    .command('init')
    .description("Write a Swing config for a Migration Assistant deployment, found by its stage's names")
    .requiredOption('--migration-stage <stage>', 'the Migration Assistant stage, e.g. dev')
    .option('--smoke-auth <auth>', `how smoke checks authenticate: ${AUTH_HELP}`)
    .option('--out <file>', 'where to write the config', 'swing.config.json')
    .option('--force', 'overwrite --out if it exists')
    .option('--source-url <url>', 'the source smoke URL, when SSM has no albSourceProxyUrl')
    .option('--target-url <url>', 'the target smoke URL, when SSM has no albTargetProxyUrl')
    .option('--trust-certificate-sha256 <fingerprint>', "pin the ALB's certificate without reading ACM")
    .option(
      '--smoke-security-group <sg-id>',
      "security group of the smoke-test function (repeatable; default: the ALB's own groups)",
      collect,
    )
    .option('--notify <email>', 'who is told about each outcome (repeatable)', collect)
    .addHelpText(
      'after',
      `
Finds, by the names the Migration Assistant's CDK deployment gives them: the ALB MigrationAssistant-<stage>,
its weighted listener (443 since MA 2.2.2, 9200 before: whichever forwards to both proxies), the target
groups ALBSourceProxy-<stage>-TG and ALBTargetProxy-<stage>-TG, and the smoke URLs in SSM
(/migration/<stage>/default/albSourceProxyUrl, albTargetProxyUrl). It checks they fit together, pins the
ALB's self-signed certificate (read from ACM) so the smoke checks can reach it, and writes an import-mode
config. Anything missing or shaped otherwise is named with its fix, and nothing is written.
Needs: elasticloadbalancing:Describe*, ssm:GetParameters, acm:DescribeCertificate, acm:GetCertificate.

Examples:
  $ swing init --migration-stage dev --smoke-auth none
  $ swing init --migration-stage prod --region eu-west-1 --smoke-auth basic:arn:aws:secretsmanager:...`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/init.ts')).runInit));
}
