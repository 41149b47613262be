// `prepare`: npm runs it after `npm ci`, and when it installs this folder as a package. `npx swing` in a
// checkout does the latter (it installs the checkout into its npx cache to run the package's own bin), which
// would rebuild everything, silently, before the first start: there the build `npm ci` made is kept.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (process.env.npm_command === 'exec' && existsSync(new URL('../dist/cli.js', import.meta.url)))
  process.exit(0);
const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(build.status ?? 1);
