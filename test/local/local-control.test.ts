import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { LocalEvent } from '#local/events.ts';
import { runLocalCommand } from '#local/main.ts';
import { parseLocalOptions, type RawLocalOptions } from '#local/options.ts';
import { runLocal } from '#local/run.ts';

const quiet = { stdout: () => {}, isTTY: false };

function operatorActs(events: readonly LocalEvent[]) {
  return events.flatMap((event) => (event.kind === 'operator' ? [`${event.action} by ${event.by}`] : []));
}

function phases(events: readonly LocalEvent[]) {
  return events.flatMap((event) => (event.kind === 'phase' ? [event.status] : []));
}

describe('Local mode control: gates', () => {
  it('promotes the gate after the 10 % step when given --promote-at 10, and completes', async () => {
    const { exitCode, events } = await runLocal(
      parseLocalOptions({ plan: '10:1s!,100', portBase: '0', rate: '100', promoteAt: '10' }),
      quiet,
    );

    expect(exitCode).toBe(0);
    expect(operatorActs(events)).toEqual(['promote by --promote-at']);
    expect(phases(events)).toEqual(expect.arrayContaining(['gated', 'completed']));
  });

  it('promotes a gate on the p key and says which keys work in the gate line', async () => {
    const out: string[] = [];
    let press: ((key: string) => void) | undefined;
    const { exitCode, events } = await runLocal(
      parseLocalOptions({ plan: '10:1s!,100', portBase: '0', rate: '100' }),
      {
        isTTY: false,
        keys: (listener) => {
          press = listener;
          return () => {
            press = undefined;
          };
        },
        stdout: (text) => {
          out.push(text);
          if (text.includes('GATE at 10 %')) press?.('p');
        },
      },
    );

    expect(exitCode).toBe(0);
    // All mode says at its start that its writes to the target are not captured, as the README promises.
    expect(out[0]).toMatch(
      /^Warning: traffic all: writes the weighted listener sends to the target are not captured/,
    );
    expect(out.join('')).toContain('GATE at 10 %: press p to promote, a to abort');
    expect(operatorActs(events)).toEqual(["promote by key 'p'"]);
  });

  it('rolls back from a gate on the a key', async () => {
    let press: ((key: string) => void) | undefined;
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({ plan: '10:1s!,100', portBase: '0', rate: '100' }),
      {
        isTTY: false,
        keys: (listener) => {
          press = listener;
          return () => {};
        },
        stdout: (text) => {
          if (text.includes('GATE at 10 %')) press?.('a');
        },
      },
    );

    expect(exitCode).toBe(1);
    expect(summary).toMatchObject({ outcome: 'rolled-back', error: 'Aborted' });
    expect(summary.finalWeights).toEqual(summary.startingWeights);
  });

  it('aborts with --abort-at at a step too short to see baking, instead of waiting at its gate', async () => {
    // '10!': no bake to speak of, then a gate that would wait an hour: the abort must still land.
    const { exitCode, summary, events } = await runLocal(
      parseLocalOptions({ plan: '10!,100', portBase: '0', rate: '100', abortAt: '10' }),
      quiet,
      { msPerSecond: 1 },
    );

    expect(exitCode).toBe(1);
    expect(summary).toMatchObject({ outcome: 'rolled-back', error: 'Aborted' });
    expect(operatorActs(events)).toEqual(['abort by --abort-at']);
  });

  it.each([
    [{ plan: '10:1s,100', promoteAt: '10' }, '--promote-at', 'mark a step with a gate'],
    [{ plan: '10:1s!,50:1s!,100', promoteAt: '25' }, '--promote-at', 'gated step (10, 50)'],
    [{ alarm5xxRate: '5' }, '--alarm-5xx-rate', 'fraction'],
    [{ alarmP99: '0' }, '--alarm-p99', 'milliseconds'],
    [{ alarmMinRequests: 'x' }, '--alarm-min-requests', 'requests'],
    [{ alarmMinRequests: '2.5' }, '--alarm-min-requests', 'whole number'],
    [{ alarmWindow: '3 weeks' }, '--alarm-window', '3s'],
  ] as [RawLocalOptions, string, string][])(
    'exits 2 naming %s for a flag it cannot use',
    async (raw, flag, fix) => {
      const errors: string[] = [];

      const code = await runLocalCommand(raw, {
        stdout: () => {},
        stderr: (text) => errors.push(text),
        isTTY: false,
      });

      expect(code).toBe(2);
      expect(errors.join('')).toContain(flag);
      expect(errors.join('')).toContain(fix);
    },
  );
});

describe('Local mode control: faults and thresholds', () => {
  it('fails the target from the start with --target-errors 1@0, so the smoke test stops the rollout before any weight change', async () => {
    const { exitCode, summary, events } = await runLocal(
      parseLocalOptions({ plan: '10:1s,100', portBase: '0', rate: '50', targetErrors: '1@0' }),
      quiet,
    );

    expect(exitCode).toBe(1);
    expect(summary.error).toBe('SmokeTestFailed');
    expect(summary.steps).toEqual([]);
    expect(events.some((event) => event.kind === 'smoke' && !event.ok)).toBe(true);
    expect(events.some((event) => event.kind === 'weights' && event.targetPercent > 0)).toBe(false);
  });

  it('rolls back on latency below the default 1 s when --alarm-p99 lowers the threshold', async () => {
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({
        plan: '50:6s,100',
        portBase: '0',
        rate: '100',
        targetLatency: '300@50',
        alarmP99: '200',
        alarmWindow: '1s',
        alarmMinRequests: '5',
      }),
      quiet,
    );

    expect(exitCode).toBe(1);
    expect(summary.rollback).toMatchObject({ alarm: 'local-target-p99-latency' });
  });

  it('reads the documented defaults when no threshold flag is given', () => {
    expect(parseLocalOptions({}).alarms).toEqual({
      errorRate: 0.05,
      p99LatencyMs: 1000,
      minRequests: 20,
      windowMs: 3000,
    });
  });
});

/** `swing local` as a user runs it: its own process, through tsx, stdout and stderr captured. */
function startLocalProcess(args: string[]): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

/** A port some other program holds, low enough to be a valid --port-base (at most 65533). */
async function takenPort(): Promise<{ server: Server; port: number }> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    if (port <= 65533) return { server, port };
    server.close();
  }
}

describe('Local mode control: the process', () => {
  it('prints the summary so far and exits 130 on Ctrl-C', async () => {
    const run = startLocalProcess(['--port-base', '0', '--plan', '10:60s,100']);
    try {
      await new Promise<void>((resolve, reject) => {
        run.child.stdout?.on('data', () => {
          if (run.stdout().includes('baking at 10 %')) resolve();
        });
        run.child.once('exit', () => reject(new Error(`exited early: ${run.stdout()}${run.stderr()}`)));
      });

      run.child.kill('SIGINT');
      const code = await exitOf(run.child);

      expect(code).toBe(130);
      expect(run.stdout()).toContain('Ctrl-C: stopping the execution');
      expect(run.stdout()).toContain('outcome: interrupted');
      expect(run.stdout()).toContain('step 1/2, 10 %: requests source');
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('ends at once on a second Ctrl-C, saying so with the weights last seen and exit code 130', async () => {
    const run = startLocalProcess(['--port-base', '0', '--plan', '10:60s,100']);
    try {
      const shown = (text: string) =>
        new Promise<void>((resolve, reject) => {
          const look = () => {
            if (!run.stdout().includes(text)) return;
            run.child.stdout?.off('data', look);
            resolve();
          };
          run.child.stdout?.on('data', look);
          look();
          run.child.once('exit', () => reject(new Error(`exited early: ${run.stdout()}${run.stderr()}`)));
        });
      await shown('baking at 10 %');
      run.child.kill('SIGINT');
      await shown('Ctrl-C: stopping the execution');

      run.child.kill('SIGINT');
      const code = await exitOf(run.child);

      expect(code).toBe(130);
      const out = run.stdout();
      expect(out).toMatch(
        /second Ctrl-C: stopped at once, without waiting for the safety net's restore; weights last seen: source \d+ \/ target \d+/,
      );
      expect(out.trimEnd().split('\n').at(-1)).toBe('outcome: interrupted (exit code 130)');
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('exits 2 with one line when the port is taken, and leaves nothing running', async () => {
    const { server: taken, port } = await takenPort();
    try {
      const run = startLocalProcess(['--port-base', String(port)]);

      const code = await exitOf(run.child);

      expect(code).toBe(2);
      expect(run.stderr().trim().split('\n')).toEqual([
        `swing local: port ${port}..${port + 2} is in use: pass --port-base 0 or another port`,
      ]);
      expect(run.stdout()).toBe('');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('closes the stand-ins it started when the port is taken', async () => {
    const { server: taken, port } = await takenPort();
    const servers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;
    const before = servers();
    try {
      const code = await runLocalCommand(
        { portBase: String(port) },
        { stdout: () => {}, stderr: () => {}, isTTY: false },
      );

      expect(code).toBe(2);
      // A closed server leaves the list on the event loop's next close phase: wait for it, boundedly.
      await vi.waitFor(() => expect(servers()).toBeLessThanOrEqual(before), { timeout: 2000, interval: 20 });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
