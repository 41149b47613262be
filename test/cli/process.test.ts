import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SWING = fileURLToPath(new URL('../../bin/swing.js', import.meta.url));

/** Runs the `swing` command as a shell runs it, with its standard output read by `readOutput`. */
function runSwing(args: readonly string[], readOutput: 'all' | 'nothing', env?: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [SWING, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env ? { env } : {}),
  });
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

  it('makes a dry run on a machine with no AWS configuration, saying which checks need AWS', async () => {
    // Prepare: no AWS variable, no ~/.aws files, no instance metadata to ask.
    const home = mkdtempSync(join(tmpdir(), 'swing-no-aws-'));
    const env = { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' };

    // Act
    const valid = await runSwing(['start', '--plan', '5:5m,100', '--dry-run'], 'all', env);
    const invalid = await runSwing(
      ['start', '--plan', '5:5m,100', '--gate-timeout', 'soon', '--dry-run'],
      'all',
      env,
    );

    // Assess
    expect(valid).toMatchObject({ code: 0, stderr: '' });
    expect(valid.stdout).toContain('Skipped because no AWS region configured');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("--gate-timeout: 'soon' is not a duration");
  });
});
