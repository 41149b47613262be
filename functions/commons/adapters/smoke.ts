import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SmokeCheck, SmokeConfig } from '#domain/smoke-config.ts';
import { DEFAULT_SMOKE_CHECKS } from '#domain/smoke-config.ts';
import type { SmokeCheckResult, SmokePort, SmokeReport } from '#domain/types.ts';

function pointerValue(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>(
      (value, key) =>
        value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      document,
    );
}

export interface SmokeDeps {
  /** Returns the secret string of a Secrets Manager secret: JSON { username, password } for basic auth. */
  readonly fetchSecret?: (secretArn: string) => Promise<string>;
}

export function secretsManagerFetcher(client: SecretsManagerClient): (secretArn: string) => Promise<string> {
  return async (secretArn) => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!SecretString) throw new Error(`secret ${secretArn} has no SecretString`);
    return SecretString;
  };
}

/** Sends each check to the source path (:9201) and the target path (:9202). Failures are results, not throws. */
export class HttpSmokeTester implements SmokePort {
  constructor(
    private readonly config: SmokeConfig,
    private readonly deps: SmokeDeps = {},
  ) {}

  private authorization?: Promise<Record<string, string>>;

  /** Read once per run; the header value never leaves this object. */
  private authHeaders(): Promise<Record<string, string>> {
    const auth = this.config.auth;
    if (auth.type === 'sigv4') {
      return Promise.reject(
        new Error('SigV4 signing is not available in this smoke tester yet: use auth none or basic'),
      );
    }
    if (auth.type !== 'basic') return Promise.resolve({});
    this.authorization ??= (async () => {
      if (!this.deps.fetchSecret) throw new Error('basic auth needs a secret fetcher');
      let parsed: { username?: unknown; password?: unknown };
      try {
        parsed = JSON.parse(await this.deps.fetchSecret(auth.secretArn));
      } catch {
        throw new Error(`secret ${auth.secretArn} is not JSON {"username","password"}`);
      }
      if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
        throw new Error(`secret ${auth.secretArn} must hold JSON with string username and password`);
      }
      const token = Buffer.from(`${parsed.username}:${parsed.password}`).toString('base64');
      return { authorization: `Basic ${token}` };
    })();
    return this.authorization;
  }

  private async call(endpoint: string, check: SmokeCheck) {
    const started = performance.now();
    const headers: Record<string, string> = { ...(await this.authHeaders()) };
    if (check.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${endpoint.replace(/\/$/, '')}${check.path}`, {
      method: check.method,
      headers,
      ...(check.body !== undefined ? { body: JSON.stringify(check.body) } : {}),
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, durationMs: Math.round(performance.now() - started) };
  }

  async run(): Promise<SmokeReport> {
    const results: SmokeCheckResult[] = [];
    for (const check of this.config.checks ?? DEFAULT_SMOKE_CHECKS) {
      const name = check.name ?? `${check.method} ${check.path}`;
      const answers: Partial<Record<'source' | 'target', unknown>> = {};
      for (const path of ['source', 'target'] as const) {
        const endpoint = path === 'source' ? this.config.sourceEndpoint : this.config.targetEndpoint;
        try {
          const answer = await this.call(endpoint, check);
          const expected = Array.isArray(check.expectStatus) ? check.expectStatus : [check.expectStatus];
          let ok = expected.includes(answer.status);
          let detail = `status ${answer.status}, expected ${expected.join(' or ')}`;
          if (ok && check.expectJson) {
            const value = pointerValue(answer.json, check.expectJson.pointer);
            if (check.expectJson.notEqual !== undefined && value === check.expectJson.notEqual) ok = false;
            if (check.expectJson.equal !== undefined && value !== check.expectJson.equal) ok = false;
            detail += `; ${check.expectJson.pointer} is ${JSON.stringify(value)}`;
          }
          if (check.compare) answers[path] = pointerValue(answer.json, check.compare.pointer);
          results.push({ name, path, ok, detail, durationMs: answer.durationMs });
        } catch (error) {
          const why =
            error instanceof Error && error.name === 'TimeoutError'
              ? `timed out after ${this.config.timeoutMs} ms`
              : String((error as Error).cause ?? error);
          results.push({ name, path, ok: false, detail: `${path} ${name}: ${why}`, durationMs: 0 });
        }
      }
      if (check.compare) {
        const { source, target } = answers;
        const tolerance = check.compare.tolerancePercent;
        const ok =
          typeof source === 'number' && typeof target === 'number'
            ? Math.abs(source - target) <= (Math.abs(source) * tolerance) / 100
            : JSON.stringify(source) === JSON.stringify(target);
        results.push({
          name,
          path: 'compare',
          ok,
          detail: `source ${JSON.stringify(source)} vs target ${JSON.stringify(target)} at ${check.compare.pointer}`,
          durationMs: 0,
        });
      }
    }
    return { ok: results.every((result) => result.ok), results };
  }
}
