import './sdk-environment.ts';
import { processDeps } from './process-deps.ts';
import { runCli } from './program.ts';

const argv = process.argv.slice(2);
process.exitCode = await runCli(argv, await processDeps(argv));
