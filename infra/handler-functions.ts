import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';
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

export function handlerEntry(name: HandlerName): string {
  return fileURLToPath(new URL(`../functions/${name}.ts`, import.meta.url));
}

/**
 * Where `npm run build` writes each handler's bundle (`<name>/index.mjs`). The path is taken relative to this
 * module, which sits one folder below the package root both as source (`infra/`) and once built into the
 * package (`dist/`): `../dist/handlers` is the same folder from either.
 */
export const HANDLER_BUNDLES_DIR = fileURLToPath(new URL('../dist/handlers/', import.meta.url));

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

/** What esbuild is told beyond ESM and minify, at build time (infra/bundle-handlers.ts) and in `npm run bench`. */
export const HANDLER_BUNDLING = {
  externalModules: ['@aws-sdk/*'],
  // The ESM builds of the bundled @smithy packages tree-shake; their CommonJS builds do not.
  mainFields: ['module', 'main'],
  // Some bundled CommonJS dependencies call require(); ESM output has no require of its own.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
};

/**
 * The deployed shape: the bundle `npm run build` made (esbuild, ESM, minified, tree-shaken; the AWS SDK v3
 * comes from the Node.js runtime). Bundled at build time, as projen does, so that synthesizing an app that
 * installed Swing as a package needs no esbuild, no handler source and no lock file.
 */
export const bundledHandler: HandlerFunctionFactory = (scope, id, name, options) => {
  const bundle = join(HANDLER_BUNDLES_DIR, name);
  if (!existsSync(join(bundle, 'index.mjs')))
    throw new Error(`${bundle}/index.mjs is missing: run \`npm run build\` to bundle the Lambda handlers`);
  return new lambda.Function(scope, id, {
    ...options,
    code: lambda.Code.fromAsset(bundle),
    handler: 'index.handler',
  });
};

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
