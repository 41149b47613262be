import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { build } from 'esbuild';
import { HANDLER_BUNDLES_DIR, HANDLER_BUNDLING, HANDLER_NAMES, handlerEntry } from './handler-functions.ts';

/**
 * Bundles every handler in HANDLER_NAMES to `<outDir>/<name>/index.mjs`: esbuild, ESM, minified, tree-shaken,
 * the AWS SDK v3 left to the Lambda runtime. A bundle whose bytes did not change is not rewritten, and a
 * changed one is replaced whole (rename), so a synth reading it at the same time never sees half a file.
 */
export async function bundleHandlers(outDir: string = HANDLER_BUNDLES_DIR): Promise<void> {
  const { outputFiles } = await build({
    entryPoints: Object.fromEntries(HANDLER_NAMES.map((name) => [`${name}/index`, handlerEntry(name)])),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    minify: true,
    treeShaking: true,
    sourcemap: false,
    platform: 'node',
    format: 'esm',
    // The functions' runtime is Node.js 24 (nodejs24.x).
    target: 'node24',
    external: HANDLER_BUNDLING.externalModules,
    mainFields: HANDLER_BUNDLING.mainFields,
    banner: { js: HANDLER_BUNDLING.banner },
    write: false,
    logLevel: 'warning',
  });
  for (const file of outputFiles) {
    if (existsSync(file.path) && readFileSync(file.path).equals(file.contents)) continue;
    mkdirSync(dirname(file.path), { recursive: true });
    const partial = `${file.path}.${process.pid}.partial`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
  }
}
