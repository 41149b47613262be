import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { HANDLER_BUNDLING, HANDLER_NAMES } from '../infra/handler-functions.ts';
import { stackHandlerEnvironments } from './handler-env.ts';

export interface BundleRow {
  readonly handler: string;
  readonly minifiedBytes: number;
  readonly coldImportMsMedian: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * Bundles each handler with the options `npm run build` uses (infra/bundle-handlers.ts: esbuild, ESM, minified,
 * tree-shaken, AWS SDK external) and times a cold import in a fresh Node process, SDK clients included.
 */
export async function measureBundles(imports = 10): Promise<BundleRow[]> {
  const root = new URL('..', import.meta.url).pathname;
  // Each handler loads with the environment the stack gives it: they refuse to load without it.
  const environments = stackHandlerEnvironments();
  // Inside the repository so that the runtime-provided AWS SDK resolves from node_modules on import.
  mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
  const out = mkdtempSync(join(root, 'node_modules', '.cache', 'swing-bench-'));
  try {
    const rows: BundleRow[] = [];
    for (const handler of HANDLER_NAMES) {
      const outfile = join(out, `${handler}.mjs`);
      await build({
        entryPoints: [join(root, 'functions', `${handler}.ts`)],
        outfile,
        bundle: true,
        minify: true,
        treeShaking: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        // As the deployed functions are bundled (infra/handler-functions.ts): the runtime provides AWS SDK v3.
        external: HANDLER_BUNDLING.externalModules,
        mainFields: HANDLER_BUNDLING.mainFields,
        banner: { js: HANDLER_BUNDLING.banner },
        logLevel: 'silent',
      });
      const times: number[] = [];
      for (let i = 0; i < imports; i += 1) {
        const printed = execFileSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`,
          ],
          { env: { ...process.env, ...environments[handler] }, encoding: 'utf8' },
        );
        times.push(Number(printed.trim()));
      }
      rows.push({
        handler,
        minifiedBytes: statSync(outfile).size,
        coldImportMsMedian: Math.round(median(times) * 10) / 10,
      });
    }
    return rows;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
