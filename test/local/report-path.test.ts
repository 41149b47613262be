import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLocalOptions } from '#local/options.ts';
import { runLocal } from '#local/run.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('Local mode --report', () => {
  it('says where it wrote the report, after the summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swing-report-'));
    dirs.push(dir);
    const file = join(dir, 'run.html');
    const out: string[] = [];

    await runLocal(
      parseLocalOptions({ plan: '50:1s', portBase: '0', rate: '50', alarmP99: '30000', report: file }),
      {
        isTTY: false,
        stdout: (text) => out.push(text),
      },
    );

    expect(existsSync(file)).toBe(true);
    const lines = out.join('').trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`report: ${file}`);
  });
});
