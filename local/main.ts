import './quiet-sdk.ts';
import { Command, CommanderError } from 'commander';
import { ValidationFailed } from '#domain/errors.ts';
import { parseLocalOptions, type RawLocalOptions } from './options.ts';
import { EXIT, isPortInUse, type LocalIo, runLocal } from './run.ts';

/** The `local` command's flags: `npm start` and `swing local` both parse them here. */
export function addLocalOptions(command: Command): Command {
  return command
    .option('--plan <plan>', "preset (canary, linear-10, linear-25) or spec like '10:2s,50:2s,100'")
    .option(
      '--port-base <port>',
      'weighted listener port; +1 source, +2 target; 0 for ephemeral ports',
      '9200',
    )
    .option('--upstream-source <url>', 'a real source cluster instead of the stand-in')
    .option('--upstream-target <url>', 'a real target cluster instead of the stand-in')
    .option('--target-errors <rate[@percent]>', 'target answers 5xx at RATE once its weight reaches PERCENT')
    .option('--target-latency <ms[@percent]>', 'target answers MS late once its weight reaches PERCENT')
    .option(
      '--abort-at <percent>',
      'an operator aborts once the target weight reaches PERCENT (during a bake or at a gate)',
    )
    .option(
      '--promote-at <percent>',
      'an operator promotes the gate that follows the plan step at PERCENT (a step marked !)',
    )
    .option('--alarm-5xx-rate <fraction>', "the target's 5xx alarm fires above this rate", '0.05')
    .option('--alarm-p99 <ms>', "the target's latency alarm fires above this p99", '1000')
    .option('--alarm-min-requests <n>', 'fewer requests in the window: no alarm judgment', '20')
    .option('--alarm-window <duration>', 'the window both alarms judge, e.g. 3s', '3s')
    .option('--rate <rps>', 'client requests per second', '100')
    .option('--write-ratio <fraction>', 'share of client requests that are writes', '0.2')
    .option(
      '--replay-lag <duration>',
      "the source path's replayer applies each write to the target this long after the source did (default 100ms), e.g. 2s",
    )
    .option(
      '--reverse-capture',
      "the target path captures, and a reverse replayer applies the target's writes to the source (default for reads-first)",
    )
    .option(
      '--no-reverse-capture',
      'reads-first without reverse capture: a rollback after the cutover reports the exposure',
    )
    .option(
      '--reverse-lag <duration>',
      'the reverse replayer applies each write to the source this long after the target did (default 100ms)',
    )
    .option(
      '--drain-timeout <seconds>',
      'a rollback after the cutover keeps writes frozen at most this long for the reverse drain (default 60)',
    )
    .option(
      '--traffic <mode>',
      'all (every request split by weight) or reads-first (reads ramp on listener rules, writes cut over last)',
    )
    .option('--rehearsal', 'end by restoring the starting weights (then: restore): outcome rehearsed')
    .option(
      '--accept-writes-on-target',
      'allow a rehearsal in all mode, whose writes to the target stay there',
    )
    .option(
      '--cutover-gate <gate>',
      'reads-first: replay-lag (default here: cut over once the replayer caught up) or manual (key p)',
    )
    .option(
      '--after-cutover <policy>',
      'reads-first: rollback (default) or hold when the target fails after it',
    )
    .option('--seed <n>', 'seed for the traffic split')
    .option('--json', 'print one machine-readable summary at the end')
    .option(
      '--report <file>',
      'write a self-contained HTML report of the run (charts, steps, rollback) to FILE',
    );
}

/**
 * Runs the local mode from command-line flags and returns the exit code (0 completed, 1 rolled back,
 * 2 bad input or a taken port, 3 halted, 130 interrupted).
 */
export async function runLocalCommand(
  raw: RawLocalOptions,
  io: LocalIo & { stderr: (text: string) => void },
): Promise<number> {
  let options: ReturnType<typeof parseLocalOptions>;
  try {
    options = parseLocalOptions(raw);
  } catch (error) {
    if (error instanceof ValidationFailed) {
      io.stderr(`swing local: ${error.message}\n`);
      return EXIT.badInput;
    }
    throw error;
  }
  try {
    const { exitCode } = await runLocal(options, io);
    return exitCode;
  } catch (error) {
    if (isPortInUse(error)) {
      io.stderr(
        `swing local: port ${options.portBase}..${options.portBase + 2} is in use: pass --port-base 0 or another port\n`,
      );
      return EXIT.badInput;
    }
    io.stderr(`swing local: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.haltedOrInternal;
  }
}

async function main(): Promise<void> {
  const program = addLocalOptions(new Command('swing-local'))
    .description(
      'Run a real rollout on this machine: stand-in clusters, a local ALB, real traffic, the real state machine',
    )
    .exitOverride();
  try {
    program.parse(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT.badInput);
    throw error;
  }
  const terminal = processTerminal();
  try {
    const code = await runLocalCommand(program.opts<RawLocalOptions>(), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      ...terminal.io,
    });
    process.exitCode = code;
  } finally {
    terminal.dispose();
  }
  process.exit();
}

/**
 * The process's terminal for the local mode: stdout's size and resizes, keystrokes when stdin is a terminal
 * too (raw mode, so one key acts at once), and Ctrl-C as an interrupt that lets the run summarize. A second
 * Ctrl-C ends the process at once.
 */
export function processTerminal(): { io: Omit<LocalIo, 'stdout'>; dispose: () => void } {
  const interrupt = new AbortController();
  const force = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) {
      // The view says why and clears its panel first; the terminal gets its line discipline back.
      force.abort();
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.exit(EXIT.interrupted);
    }
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  const stdin = process.stdin;
  const keyboard = Boolean(stdin.isTTY && process.stdout.isTTY);
  const keys = (listener: (key: string) => void) => {
    const onData = (data: Buffer) => {
      const key = data.toString('utf8');
      // Raw mode delivers Ctrl-C as a byte, not a signal.
      if (key === '\u0003') onSigint();
      else listener(key);
    };
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
    return () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
  };
  return {
    io: {
      isTTY: Boolean(process.stdout.isTTY),
      ...(process.stdout.isTTY ? { terminal: process.stdout } : {}),
      ...(keyboard ? { keys } : {}),
      interrupt: interrupt.signal,
      forceStop: force.signal,
    },
    dispose: () => process.off('SIGINT', onSigint),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
