import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './stacks.ts';

const run = promisify(execFile);
const CDK = join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

/** The environment of a machine with no AWS account: no credentials, no profile, no instance metadata. */
function offlineEnvironment(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

async function cdkSynth(outdir: string, ...extra: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [CDK, 'synth', '--no-notices', '--quiet', '-o', outdir, ...extra],
      { cwd: REPO_ROOT, env: offlineEnvironment(), timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('CLI: npx cdk synth with the example config (offline, no credentials)', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'swing-cdk-out-'));
  let result: Awaited<ReturnType<typeof cdkSynth>>;
  let template: {
    Resources: Record<
      string,
      { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }
    >;
  };

  beforeAll(async () => {
    result = await cdkSynth(outdir);
    if (result.code === 0) template = JSON.parse(readFileSync(join(outdir, 'Swing.template.json'), 'utf8'));
  }, 180_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('exits 0 and writes the template, with the AwsSolutions pack run and clean', () => {
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    expect(
      report.pluginReports.flatMap((plugin: { violations?: unknown[] }) => plugin.violations ?? []),
    ).toEqual([]);
    expect(Object.keys(template.Resources).length).toBeGreaterThan(50);
  });

  it('prints nothing on success: no bundling output, no feature-flag notice', () => {
    expect(result.code, result.stderr).toBe(0);
    expect({ stdout: result.stdout, stderr: result.stderr }).toEqual({ stdout: '', stderr: '' });
  });

  it('bundles each handler with esbuild as minified ESM, leaving the AWS SDK to the runtime', () => {
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(10);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
      const asset = join(outdir, fn.Metadata!['aws:asset:path']!);
      expect(readdirSync(asset)).toEqual(['index.mjs']);
      const code = readFileSync(join(asset, 'index.mjs'), 'utf8');
      // Minified: long lines (unminified code averages under 40 characters; the breaks left are in template literals).
      expect(code.length / code.split('\n').length).toBeGreaterThan(500);
      expect(code).toMatch(/export\s*\{[^}]*as handler\s*\}/);
      expect(code).toMatch(/from\s*"@aws-sdk\/client-[a-z-]+"/);
      expect(code).not.toMatch(/\bmodule\.exports\s*=/);
      // Tree-shaken: zod's locales alone would add ~370 KB (see the zod import rule in biome.json).
      expect(statSync(join(asset, 'index.mjs')).size).toBeLessThan(256 * 1024);
    }
  });

  it('ships the state machine definition as the ASL file itself', () => {
    const [stateMachine] = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    const key = (stateMachine!.Properties.DefinitionS3Location as { Key: string }).Key;
    const asset = join(outdir, `asset.${key}`);
    expect(existsSync(asset)).toBe(true);
    expect(readFileSync(asset, 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, 'statemachine', 'rollout.asl.json'), 'utf8'),
    );
  });
});

describe('CLI: npx cdk synth with a bad config', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'swing-cdk-bad-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('fails before synthesizing, naming the field and the fix', async () => {
    const bad = JSON.stringify({ mode: 'import', import: { listenerArn: 'nope' } });
    const result = await cdkSynth(outdir, '-c', `swing:config=${bad}`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Swing config is invalid');
    expect(result.stderr).toContain('swing:config.import.listenerArn: is not a valid ARN');
    expect(existsSync(join(outdir, 'Swing.template.json'))).toBe(false);
  }, 60_000);
});
