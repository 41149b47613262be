import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ValidationFailed } from '#domain/errors.ts';
import { bundleHandlers } from './bundle-handlers.ts';
import { loadSwingConfig } from './config.ts';
import { SwingStack } from './swing-stack.ts';

/**
 * The Swing CDK app (cdk.json: `npx tsx infra/app.ts`). The config comes from context: `swing:configFile`
 * (cdk.json points it at infra/example.config.json) or `swing:config` (inline JSON). The AwsSolutions
 * pack runs on every synth: an unsuppressed finding is an error and fails it.
 */
const app = new App();
try {
  const config = loadSwingConfig((key) => app.node.tryGetContext(key));
  // The functions load the handlers' prebuilt bundles; this app bundles them again first, so that it never
  // deploys bundles older than the source (a no-op when nothing changed). After the config: a bad one fails
  // at once.
  await bundleHandlers();
  new SwingStack(app, config.stackName, { config });
} catch (error) {
  if (!(error instanceof ValidationFailed)) throw error;
  process.stderr.write(
    `Swing config is invalid:\n${error.issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}\n`,
  );
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
