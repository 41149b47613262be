import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpSmokeTester, SECRET_TTL_MS, secretsManagerFetcher } from '#adapters/smoke.ts';
import { parseSmokeConfig } from '#domain/smoke-config.ts';

interface Cluster {
  server: Server;
  url: string;
  count: number;
  health: string;
  seen: IncomingHttpHeaders[];
}

async function cluster(count: number): Promise<Cluster> {
  const state = { count, health: 'green', seen: [] as IncomingHttpHeaders[] };
  const server = createServer((request, response) => {
    state.seen.push(request.headers);
    const body =
      request.url === '/_cluster/health'
        ? { status: state.health }
        : request.url === '/logs/_count'
          ? { count: state.count }
          : request.url === '/slow'
            ? undefined
            : { name: 'node-1' };
    if (!body) return; // never answers
    response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, { server, url: `http://127.0.0.1:${port}` });
}

describe('Class: HttpSmokeTester', () => {
  let source: Cluster;
  let target: Cluster;
  const tester = (extra: Record<string, unknown> = {}, deps = {}) =>
    new HttpSmokeTester(
      parseSmokeConfig({ sourceEndpoint: source.url, targetEndpoint: target.url, timeoutMs: 300, ...extra }),
      deps,
    );

  beforeAll(async () => {
    source = await cluster(1000);
    target = await cluster(1004);
  });
  afterAll(() => {
    for (const { server } of [source, target]) {
      server.closeAllConnections();
      server.close();
    }
  });

  it('passes the default OpenSearch checks on both paths', async () => {
    const report = await tester().run();

    expect(report.ok).toBe(true);
    expect(report.results.map((result) => `${result.path} ${result.name}`)).toEqual([
      'source GET /',
      'target GET /',
      'source GET /_cluster/health',
      'target GET /_cluster/health',
    ]);
  });

  it('fails when the target cluster is red, saying so', async () => {
    target.health = 'red';
    const report = await tester().run();
    target.health = 'green';

    expect(report.ok).toBe(false);
    expect(report.results.find((result) => !result.ok)).toMatchObject({
      path: 'target',
      detail: expect.stringContaining('"red"'),
    });
  });

  it.each([
    [0.5, true],
    [0.1, false],
  ])('compares a document count within %f %', async (tolerancePercent, ok) => {
    const report = await tester({
      checks: [{ path: '/logs/_count', compare: { pointer: '/count', tolerancePercent } }],
    }).run();

    expect(report.results.at(-1)).toMatchObject({
      path: 'compare',
      ok,
      detail: expect.stringContaining('1004'),
    });
  });

  it('reports a wrong status, a timeout and a refused connection as failed results', async () => {
    const report = await tester({ checks: [{ path: '/missing' }, { path: '/slow' }] }).run();
    const refused = await new HttpSmokeTester(
      parseSmokeConfig({ sourceEndpoint: 'http://127.0.0.1:1', targetEndpoint: 'http://127.0.0.1:1' }),
    ).run();

    expect(report.results.map((result) => result.ok)).toEqual([false, false, false, false]);
    expect(report.results[0]?.detail).toContain('status 404, expected 200');
    expect(report.results[2]?.detail).toContain('timed out after 300 ms');
    expect(refused.results[0]?.detail).toContain('connection refused');
  });

  it('sends basic auth from the secret and never puts the password in the report', async () => {
    const secret = JSON.stringify({ username: 'admin', password: 's3cret-pa55' });
    target.seen.length = 0;

    const report = await tester(
      {
        auth: { type: 'basic', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:smoke' },
        checks: [{ path: '/missing' }],
      },
      { fetchSecret: async () => secret },
    ).run();

    expect(target.seen[0]?.authorization).toBe(
      `Basic ${Buffer.from('admin:s3cret-pa55').toString('base64')}`,
    );
    expect(JSON.stringify(report)).not.toContain('s3cret-pa55');
    expect(JSON.stringify(report)).not.toContain(Buffer.from('admin:s3cret-pa55').toString('base64'));
  });

  describe('Method: basic auth from Secrets Manager', () => {
    const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:smoke';
    const basicAuth = { auth: { type: 'basic', secretArn: SECRET_ARN }, checks: [{ path: '/' }] };
    const header = (username: string, password: string) =>
      `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    const secretsManager = mockClient(SecretsManagerClient);
    const basicTester = () =>
      tester(basicAuth, { fetchSecret: secretsManagerFetcher(new SecretsManagerClient({})) });
    afterEach(() => {
      secretsManager.reset();
      vi.useRealTimers();
    });

    it('does not cache a failed fetch: the next run reads the secret again and passes', async () => {
      // Prepare
      secretsManager
        .on(GetSecretValueCommand)
        .rejectsOnce(
          new SecretsManagerServiceException({
            name: 'AccessDeniedException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message:
              'User: arn:aws:sts::123456789012:assumed-role/smoke is not authorized to perform: GetSecretValue',
          }),
        )
        .resolves({ SecretString: JSON.stringify({ username: 'admin', password: 'pa55' }) });
      const smoke = basicTester();

      // Act
      const denied = await smoke.run();
      target.seen.length = 0;
      const allowed = await smoke.run();

      // Assess
      expect(denied.ok).toBe(false);
      expect(denied.results[0]?.detail).toContain('AccessDeniedException');
      expect(denied.results[0]?.detail).not.toContain('not JSON');
      expect(allowed.ok).toBe(true);
      expect(target.seen[0]?.authorization).toBe(header('admin', 'pa55'));
    });

    it('names a secret that does not exist as ResourceNotFoundException', async () => {
      secretsManager.on(GetSecretValueCommand).rejects(
        new ResourceNotFoundException({
          $metadata: { httpStatusCode: 400 },
          message: "Secrets Manager can't find the specified secret.",
        }),
      );

      const report = await basicTester().run();

      expect(report.results[0]?.detail).toContain(`secret ${SECRET_ARN}`);
      expect(report.results[0]?.detail).toContain('ResourceNotFoundException');
    });

    it('re-reads a rotated secret once the value it holds is older than its TTL, and not before', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      secretsManager
        .on(GetSecretValueCommand)
        .resolvesOnce({ SecretString: JSON.stringify({ username: 'admin', password: 'before' }) })
        .resolves({ SecretString: JSON.stringify({ username: 'admin', password: 'rotated' }) });
      const smoke = basicTester();

      await smoke.run();
      vi.advanceTimersByTime(SECRET_TTL_MS - 1000);
      target.seen.length = 0;
      await smoke.run();
      const withinTtl = target.seen[0]?.authorization;
      vi.advanceTimersByTime(2000);
      target.seen.length = 0;
      await smoke.run();

      expect(withinTtl).toBe(header('admin', 'before'));
      expect(target.seen[0]?.authorization).toBe(header('admin', 'rotated'));
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it.each([
      ['hunter2-is-no-json', 'is not JSON', 'hunter2'],
      [JSON.stringify({ username: 'admin', pass: 'hunter2' }), 'field "password"', 'hunter2'],
      [JSON.stringify({ username: 42, password: 'hunter2' }), 'field "username"', 'hunter2'],
    ])('names what is wrong with the secret string %#, never its value', async (secret, why, value) => {
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: secret });

      const report = await basicTester().run();

      expect(report.ok).toBe(false);
      expect(report.results[0]?.detail).toContain(why);
      expect(JSON.stringify(report)).not.toContain(value);
    });
  });

  it.each(['es', 'aoss'] as const)('signs requests with SigV4 for service %s', async (service) => {
    target.seen.length = 0;

    await tester(
      { auth: { type: 'sigv4', service, region: 'eu-west-1' }, checks: [{ path: '/' }] },
      { credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI' }) },
    ).run();

    expect(target.seen[0]?.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\\d{8}/eu-west-1/${service}/aws4_request`),
    );
    // OpenSearch Serverless rejects requests without the payload hash header.
    if (service === 'aoss') expect(target.seen[0]?.['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    [{ sourceEndpoint: 'not a url', targetEndpoint: 'http://x:9202' }, 'smoke.sourceEndpoint'],
    [
      { sourceEndpoint: 'http://x:9201', targetEndpoint: 'http://x:9202', checks: [{ path: 'nope' }] },
      'smoke.checks[0].path',
    ],
    [
      {
        sourceEndpoint: 'http://x:9201',
        targetEndpoint: 'http://x:9202',
        auth: { type: 'sigv4', service: 'ec2', region: 'x' },
      },
      'smoke.auth',
    ],
  ])('refuses a bad config naming the field (%#)', (input, field) => {
    expect(() => parseSmokeConfig(input)).toThrow(
      expect.objectContaining({ name: 'ValidationFailed', message: expect.stringContaining(field) }),
    );
  });
});
