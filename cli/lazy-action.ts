import type { CommandHandler } from './action.ts';
import type { CliDeps } from './deps.ts';

/**
 * A command's action whose code loads only when the command runs: the definitions (cli/definitions/) are all
 * that `swing --help` loads, so it starts in a fraction of the time. With the command's code come the common
 * action (context, adapters) and what `deps` loads to run one (the AWS SDK).
 */
export function lazyAction(deps: CliDeps, load: () => Promise<CommandHandler>) {
  return async (...params: unknown[]): Promise<void> => {
    const [{ action }, handler] = await Promise.all([import('./action.ts'), load(), deps.beforeRun?.()]);
    await action(deps, handler)(...params);
  };
}
