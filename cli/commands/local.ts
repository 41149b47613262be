import type { CommandHandler } from '../action.ts';
import { CliFailure } from '../exit-codes.ts';

/** `swing local`: see its definition in cli/definitions/local.ts. */
export const runLocalMode: CommandHandler = async (ctx, invoked) => {
  // `--json` is a program-wide option: hand it to the local mode with its own flags.
  const options = { ...invoked.opts(), ...(ctx.json ? { json: true } : {}) };
  const exitCode = await ctx.deps.runLocal(options, {
    stdout: ctx.deps.stdout,
    stderr: ctx.deps.stderr,
    isTTY: ctx.deps.isTTY,
  });
  // The local mode printed its own outcome; only the code is left to pass on.
  if (exitCode !== 0) throw new CliFailure(exitCode, '');
};
