import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';

/** The Lambda handlers, one entry file each: `functions/<name>.ts` exporting `handler`. */
export const HANDLER_NAMES = [
  'preflight',
  'smoke-test',
  'shift-weights',
  'check-alarms',
  'bake',
  'alarm-event',
  'rollback',
  'finalize',
  'safety-net',
  'reconciler',
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export function handlerEntry(name: HandlerName): string {
  return fileURLToPath(new URL(`../functions/${name}.ts`, import.meta.url));
}

/** Everything about a handler's function except its code. */
export interface HandlerFunctionOptions extends lambda.FunctionOptions {
  readonly runtime: lambda.Runtime;
}

/** Builds one handler's function. The default bundles it; tests may pass `placeholderHandler`. */
export type HandlerFunctionFactory = (
  scope: Construct,
  id: string,
  name: HandlerName,
  options: HandlerFunctionOptions,
) => lambda.Function;

/** What esbuild is told beyond ESM and minify; `npm run bench` bundles with the same. */
export const HANDLER_BUNDLING = {
  externalModules: ['@aws-sdk/*'],
  // The ESM builds of the bundled @smithy packages tree-shake; their CommonJS builds do not.
  mainFields: ['module', 'main'],
  // Some bundled CommonJS dependencies call require(); ESM output has no require of its own.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
};

/**
 * The deployed shape: esbuild (local, no Docker), ESM, minified, tree-shaken. The AWS SDK v3 comes from the
 * Node.js runtime, as CDK does by default, which keeps each bundle small.
 */
export const bundledHandler: HandlerFunctionFactory = (scope, id, name, options) =>
  new NodejsFunction(scope, id, {
    ...options,
    entry: handlerEntry(name),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: fileURLToPath(new URL('../package-lock.json', import.meta.url)),
    bundling: {
      format: OutputFormat.ESM,
      minify: true,
      sourceMap: false,
      externalModules: HANDLER_BUNDLING.externalModules,
      mainFields: HANDLER_BUNDLING.mainFields,
      banner: HANDLER_BUNDLING.banner,
      forceDockerBundling: false,
    },
  });

/**
 * A stand-in with inline code, for synth-only checks (tests, template reviews) that should not spend time
 * bundling. Everything but the code (role, environment, runtime, logging, VPC) is what gets deployed.
 */
export const placeholderHandler: HandlerFunctionFactory = (scope, id, _name, options) =>
  new lambda.Function(scope, id, {
    ...options,
    code: lambda.Code.fromInline('export const handler = async () => ({});'),
    handler: 'index.handler',
  });
