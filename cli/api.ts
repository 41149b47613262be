import { processDeps } from './process-deps.ts';
import { runCli } from './program.ts';

export { ExitCodes } from './exit-codes.ts';

/**
 * Runs `swing` with `argv` (without `node` and the script) as the command does, on this process's output,
 * terminal and AWS configuration, and returns the exit code (`ExitCodes`) instead of exiting the process.
 *
 * @example
 * import { runSwing, ExitCodes } from 'swing-rollout/cli';
 * if ((await runSwing(['status', '--json'])) !== ExitCodes.Ok) process.exitCode = 1;
 */
export async function runSwing(argv: readonly string[]): Promise<number> {
  return runCli(argv, await processDeps(argv));
}
