import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface StartupRow {
  readonly command: string;
  readonly wallMsMedian: number;
  readonly wallMsMin: number;
}

export interface Startup {
  readonly rows: StartupRow[];
  /** `swing --help` over `node -e 0`, run by run (each pair ran back to back): the median of those ratios. */
  readonly ratio: number;
}

const SWING = fileURLToPath(new URL('../bin/swing.js', import.meta.url));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Whole-process wall time of fresh Node processes: `swing --help` (the built CLI) beside an empty `node -e 0`. */
export function measureStartup(runs = 15): Startup {
  const commands: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['swing --help', [SWING, '--help']],
  ];
  // One run each first: Node's compile cache is written by the first start of the CLI, as after an install.
  for (const [, args] of commands) spawnSync(process.execPath, args, { stdio: 'ignore' });
  const times = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  // Interleaved, so that a change in the machine's load touches both alike.
  for (let run = 0; run < runs; run += 1) {
    for (const [name, args] of commands) {
      const started = performance.now();
      const { status } = spawnSync(process.execPath, args, { stdio: 'ignore' });
      if (status !== 0) throw new Error(`${name} exited ${status}: run \`npm run build\` first`);
      times.get(name)?.push(performance.now() - started);
    }
  }
  const node = times.get('node -e 0') ?? [];
  const swing = times.get('swing --help') ?? [];
  return {
    rows: commands.map(([command]) => {
      const samples = times.get(command) ?? [];
      return {
        command,
        wallMsMedian: Math.round(median(samples)),
        wallMsMin: Math.round(Math.min(...samples)),
      };
    }),
    ratio: Math.round(median(swing.map((ms, run) => ms / (node[run] ?? ms))) * 100) / 100,
  };
}
