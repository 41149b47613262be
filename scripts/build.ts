import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleHandlers } from '../infra/bundle-handlers.ts';
import { HANDLER_BUNDLING } from '../infra/handler-functions.ts';

/**
 * `npm run build` (also `prepare`, so `npm ci` leaves a checkout that runs): compiles the `swing` command and
 * the CDK construct to JavaScript in dist/, so nothing is transpiled at run time; bundles each Lambda handler
 * to dist/handlers/<name>/index.mjs for the construct to load; writes the construct's types to dist/types/.
 *
 * Every script lands directly in dist/, one folder below the package root like the source folders, so the
 * paths the code takes from `import.meta.url` (`../package.json`, `../statemachine/`, `../dist/handlers/`)
 * hold in both. `--no-types` skips the (slower) type declarations.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const PEERS = ['aws-cdk-lib', 'constructs'];

// Chunk names carry content hashes: last build's must go, or the package would ship them.
for (const file of existsSync(dist) ? readdirSync(dist) : [])
  if (file.endsWith('.js')) rmSync(join(dist, file));

// The command carries its dependencies: a few files to load instead of hundreds. Each command's code (with the
// AWS SDK) and the local mode are chunks of their own, loaded only when that command runs (cli/lazy-action.ts):
// `swing --help` loads the commands' definitions and commander alone.
await build({
  absWorkingDir: root,
  // `cli` is the command; `cli-api` the same program for other code (`swing-rollout/cli`).
  entryPoints: { cli: 'cli/main.ts', 'cli-api': 'cli/api.ts' },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  mainFields: HANDLER_BUNDLING.mainFields,
  // Bundled CommonJS dependencies call require(), which ESM lacks (named apart from the CLI's own imports).
  banner: {
    js: "import { createRequire as requireFromBundle } from 'node:module'; const require = requireFromBundle(import.meta.url);",
  },
  logLevel: 'warning',
});

// The construct uses the app's own aws-cdk-lib and constructs (peer dependencies), and zod, whose types its
// props refer to.
await build({
  absWorkingDir: root,
  entryPoints: { construct: 'infra/rollout-controller.ts' },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: [...PEERS, ...PEERS.map((peer) => `${peer}/*`), 'zod'],
  logLevel: 'warning',
});

await bundleHandlers();

if (!process.argv.includes('--no-types')) writeConstructTypes();

/**
 * tsc writes the declarations with the source's import paths: `./x.ts` and `#domain/x.ts`. In the package
 * neither resolves (no .ts files, and `imports` points at the source), so each becomes the relative path of
 * the emitted `.js` beside its `.d.ts`.
 */
function writeConstructTypes(): void {
  const types = join(dist, 'types');
  rmSync(types, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.types.json')], { stdio: 'inherit' });
  const aliases = Object.entries(
    (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { imports: Record<string, string> })
      .imports,
  ).map(([alias, target]) => [alias.replace(/\*$/, ''), target.replace(/\*$/, '')] as const);
  for (const file of readdirSync(types, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.d.ts')) continue;
    const path = join(types, file);
    const text = readFileSync(path, 'utf8').replace(
      /(from\s+|import\()(['"])([^'"]+)\.ts\2/g,
      (_match, lead: string, quote: string, specifier: string) => {
        const alias = aliases.find(([prefix]) => specifier.startsWith(prefix));
        const target = alias
          ? join(types, alias[1], specifier.slice(alias[0].length))
          : join(dirname(path), specifier);
        const resolved = relative(dirname(path), target);
        return `${lead}${quote}${resolved.startsWith('.') ? resolved : `./${resolved}`}.js${quote}`;
      },
    );
    writeFileSync(path, text);
  }
}
