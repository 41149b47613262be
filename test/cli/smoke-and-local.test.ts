import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyError, ExitCodes } from '#cli/exit-codes.ts';
import { aws, resetAws, swing } from './harness.ts';

const PASSWORD = 's3cr3t-smoke-password';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:swing-smoke-basic-AbCdEf';
const EXPECTED_AUTH = `Basic ${Buffer.from(`swing:${PASSWORD}`).toString('base64')}`;

/** A cluster stand-in on 127.0.0.1 that answers only with the right basic-auth header. */
async function cluster(documents: number): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    if (request.headers.authorization !== EXPECTED_AUTH) {
      response.writeHead(401).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(request.url === '/orders/_count' ? { count: documents } : { status: 'green' }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('Command: swing smoke', () => {
  const servers: Server[] = [];

  beforeEach(() => {
    resetAws();
    aws.secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
      .resolves({ SecretString: JSON.stringify({ username: 'swing', password: PASSWORD }) });
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function smokeConfig(sourceDocuments: number, targetDocuments: number): Promise<string> {
    const source = await cluster(sourceDocuments);
    const target = await cluster(targetDocuments);
    servers.push(source.server, target.server);
    return JSON.stringify({
      sourceEndpoint: source.url,
      targetEndpoint: target.url,
      auth: { type: 'basic', secretArn: SECRET_ARN },
      checks: [
        { name: 'health', path: '/_cluster/health', expectJson: { pointer: '/status', notEqual: 'red' } },
        { name: 'orders count', path: '/orders/_count', compare: { pointer: '/count' } },
      ],
    });
  }

  it('prints a table of every check on both paths and exits 0 when all pass, never printing the secret', async () => {
    // Act
    const result = await swing(['smoke', '--smoke-config', await smokeConfig(42, 42)]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/CHECK\s+PATH\s+RESULT\s+TIME\s+DETAIL/);
    expect(result.stdout).toMatch(
      /health\s+source\s+ok\s+\d+ ms\s+status 200, expected 200; \/status is "green"/,
    );
    expect(result.stdout).toMatch(/health\s+target\s+ok/);
    expect(result.stdout).toMatch(/orders count\s+compare\s+ok\s+-\s+\/count: source 42, target 42/);
    expect(result.stdout).toContain('All 5 checks passed.');
    expect(`${result.stdout}${result.stderr}`).not.toContain(PASSWORD);
    expect(`${result.stdout}${result.stderr}`).not.toContain(EXPECTED_AUTH.slice(6));
    // Every value came from the flag: the stack was not read.
    expect(aws.cloudFormation).not.toReceiveCommand(DescribeStacksCommand);
  });

  it("reads the checks from the stack's SmokeConfig output when no flag gives them", async () => {
    // Prepare
    const config = await smokeConfig(42, 42);
    aws.cloudFormation.on(DescribeStacksCommand, { StackName: 'Swing' }).resolves({
      Stacks: [
        {
          StackName: 'Swing',
          CreationTime: new Date('2026-03-01T09:00:00Z'),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'SmokeConfig', OutputValue: config }],
        },
      ],
    });

    // Act
    const result = await swing(['smoke']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Source ${JSON.parse(config).sourceEndpoint}`);
    expect(result.stdout).toContain('All 5 checks passed.');
  });

  it('exits 1 naming the failed checks when the paths disagree', async () => {
    // Act
    const result = await swing(['smoke', '--smoke-config', await smokeConfig(42, 40), '--json']);

    // Assess
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.results.find((check: { path: string }) => check.path === 'compare')).toMatchObject({
      ok: false,
    });
    expect(result.stderr).toContain('1 of 5 smoke checks failed (compare orders count)');
    expect(result.stdout).not.toContain(PASSWORD);
  });

  it('rejects a smoke config that does not parse with exit 2 naming the field', async () => {
    // Act
    const result = await swing(['smoke', '--smoke-config', '{"sourceEndpoint":"nope"}']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--smoke-config');
    expect(result.stderr).toContain('sourceEndpoint: must be the source path URL');
  });
});

describe('Command: swing local', () => {
  it('hands its options to the injected local mode and exits with its code', async () => {
    // Prepare
    const calls: Record<string, unknown>[] = [];

    // Act
    const result = await swing(['local', '--plan', '10:1s,100', '--json'], {
      configureLocal: (command) => command.option('--plan <plan>'),
      runLocal: async (options) => {
        calls.push(options);
        return 1;
      },
    });

    // Assess
    expect(calls).toEqual([{ plan: '10:1s,100', json: true }]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(result.clientRequests).toBe(0);
  });

  it('passes unknown flags through when the local mode declares none', async () => {
    // Act
    const result = await swing(['local', '--rate', '5'], { runLocal: async () => 0 });

    // Assess
    expect(result.code).toBe(0);
  });
});

describe('Function: classifyError', () => {
  const awsError = (name: string, message: string) =>
    Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });

  it.each([
    [
      awsError('ExpiredTokenException', 'The security token included in the request is expired'),
      ExitCodes.AwsError,
      'credentials expired',
    ],
    [awsError('AccessDeniedException', 'not authorized'), ExitCodes.AwsError, 'access denied'],
    [awsError('ThrottlingException', 'Rate exceeded'), ExitCodes.AwsError, 'AWS error ThrottlingException'],
    [
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      ExitCodes.AwsError,
      'aws sso login',
    ],
    [new Error('Region is missing'), ExitCodes.BadInput, 'pass --region'],
    [
      awsError('ResourceNotFoundException', 'Requested resource not found'),
      ExitCodes.BadInput,
      'check --stack-name, --region',
    ],
    [
      Object.assign(new Error('getaddrinfo ENOTFOUND states.eu-west-9.amazonaws.com'), { code: 'ENOTFOUND' }),
      ExitCodes.AwsError,
      'cannot reach AWS',
    ],
    [new TypeError('x is undefined'), ExitCodes.HaltedOrInternal, 'internal error'],
  ])('maps %s to its exit code and one line with the fix', (error, exitCode, text) => {
    // Act
    const classified = classifyError(error);

    // Assess
    expect(classified.exitCode).toBe(exitCode);
    expect(classified.message).toContain(text);
    expect(classified.message).not.toContain('\n');
  });
});
