// Before any AWS SDK module loads (see the file): `swing-rollout/cli` enters here, not through cli/main.ts.
import './sdk-environment.ts';
import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import type { CliDeps } from './deps.ts';
import { SETTING_FLAGS } from './settings.ts';

function whoAmI(): string {
  try {
    return `cli:${userInfo().username}@${hostname()}`;
  } catch {
    // No passwd entry (some containers): the host still says where the request came from.
    return `cli:${hostname()}`;
  }
}

async function confirmOnTerminal(question: string): Promise<boolean> {
  // Asked on stderr so that `--json` output on stdout stays clean.
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

/**
 * A reader that stops early (`swing --help | head -1`) closes the pipe. The command still runs to its end (a
 * rollback must not stop half-way because nobody reads its output); it just prints nothing more there.
 */
function writerTo(stream: NodeJS.WriteStream): (text: string) => void {
  let readerGone = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    readerGone = true;
  });
  return (text) => {
    if (!readerGone) stream.write(text);
  };
}

const valueFlags = new Set([
  '--stack-name',
  '--region',
  '--profile',
  ...Object.values(SETTING_FLAGS).map((s) => s.flag),
]);

/** The command word in argv, skipping global options and their values. */
function commandWord(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    if (valueFlags.has(arg)) index += 1;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** What `swing <argv>` needs from this process: its streams, terminal, clock, AWS clients and identity. */
export async function processDeps(argv: readonly string[]): Promise<CliDeps> {
  // The local mode (and its flags, declared in local/main.ts) is loaded only for `swing local`: the AWS
  // commands start faster without it.
  const localMode = commandWord(argv) === 'local' ? await import('#local/main.ts') : undefined;
  // The AWS SDK, once a command runs: help and --version print without loading it.
  let aws: typeof import('./aws-clients.ts') | undefined;
  const loadedAws = () => {
    if (!aws) throw new Error('the AWS SDK was used before beforeRun loaded it');
    return aws;
  };
  return {
    beforeRun: async () => {
      aws ??= await import('./aws-clients.ts');
    },
    stdout: writerTo(process.stdout),
    stderr: writerTo(process.stderr),
    // Confirmation needs someone to answer: both ends must be a terminal.
    isTTY: Boolean(process.stdout.isTTY && process.stdin.isTTY),
    awsClients: (options) => loadedAws().defaultAwsClients(options),
    smokeCredentials: (options) => loadedAws().defaultSmokeCredentials(options),
    now: () => new Date(),
    sleep: (ms) => sleep(ms),
    confirm: confirmOnTerminal,
    requestedBy: whoAmI(),
    ...(localMode
      ? {
          // `--json` is the program's own option; the local mode's flags are added next to it.
          configureLocal: (command: Command) => {
            const flags = localMode.addLocalOptions(new Command('local')).options;
            for (const option of flags.filter((candidate) => candidate.long !== '--json'))
              command.addOption(option);
            return command;
          },
        }
      : {}),
    runLocal: async (options, io) => {
      const { runLocalCommand, processTerminal } = localMode ?? (await import('#local/main.ts'));
      // The live view and the keys need the terminal itself; Ctrl-C must reach the run to print its summary.
      const terminal = processTerminal();
      try {
        return await runLocalCommand(options, { ...io, ...terminal.io });
      } finally {
        terminal.dispose();
      }
    },
  };
}
