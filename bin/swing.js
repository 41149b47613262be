#!/usr/bin/env node
// The `swing` command: the CLI that `npm run build` compiled to dist/ (nothing is transpiled at run time).
import { existsSync } from 'node:fs';
import module from 'node:module';

const [major = 0] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(
    `swing needs Node.js 22 or later (this is ${process.version}): install Node.js 24 LTS; in a checkout, ` +
      '`npx swing` runs it on the Node.js 24 that `npm ci` installed\n',
  );
  process.exit(1);
}
const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('swing: dist/cli.js is missing: in a checkout, run `npm ci` (or `npm run build`)\n');
  process.exit(1);
}
// Node keeps the compiled code of the CLI's files on disk, so every start after the first is faster.
module.enableCompileCache?.();
await import(cli.href);
