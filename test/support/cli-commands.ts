import type { Command } from 'commander';
import type { CliDeps } from '#cli/deps.ts';
import { makeProgram } from '#cli/program.ts';

/** Every command a user can run, as `swing schedule add`: the leaves of the program's command tree. */
function leavesOf(command: Command, prefix: string): string[] {
  return command.commands.flatMap((sub) =>
    sub.commands.length > 0 ? leavesOf(sub, `${prefix} ${sub.name()}`) : [`${prefix} ${sub.name()}`],
  );
}

const listingOnly = {
  stdout: () => undefined,
  stderr: () => undefined,
  isTTY: false,
  awsClients: () => {
    throw new Error('no AWS client: the program is only listed');
  },
  now: () => new Date(0),
  sleep: async () => undefined,
  confirm: async () => false,
  requestedBy: 'cli:test',
  runLocal: async () => 0,
} satisfies CliDeps;

/** The commands of `swing`, read from the program itself. */
export function cliCommands(): string[] {
  return leavesOf(makeProgram(listingOnly), 'swing');
}
