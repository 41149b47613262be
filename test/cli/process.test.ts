import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SWING = fileURLToPath(new URL('../../bin/swing.js', import.meta.url));

/** Runs the `swing` command as a shell runs it, with its standard output read by `readOutput`. */
function runSwing(args: readonly string[], readOutput: 'all' | 'nothing') {
  const child = spawn(process.execPath, [SWING, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A reader that is gone before the first write, as `swing --help | head -1` is once head has its line.
  if (readOutput === 'nothing') child.stdout.destroy();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('Binary: swing', () => {
  it('prints the help and exits 0', async () => {
    const result = await runSwing(['--help'], 'all');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Usage: swing /);
  });

  it('exits cleanly, with no stack trace, when the reader of its output closes the pipe early', async () => {
    const result = await runSwing(['--help'], 'nothing');
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
