import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { SmokeCheck, SmokeConfig } from '#domain/smoke-config.ts';
import { DEFAULT_SMOKE_CHECKS } from '#domain/smoke-config.ts';
import type { SmokeCheckResult, SmokePort, SmokeReport } from '#domain/types.ts';
import { CertificatePinMismatch, PinnedCertificateAgent } from './pinned-tls.ts';

/**
 * How long a fetched basic-auth secret is used before it is read again, so that a rotated secret is picked
 * up by a warm Lambda container. Five minutes, as the AWS Parameters and Secrets Lambda Extension's default.
 */
export const SECRET_TTL_MS = 300_000;

export interface SmokeDeps {
  /** Returns the secret string of a Secrets Manager secret: JSON { username, password } for basic auth. */
  readonly fetchSecret?: (secretArn: string) => Promise<string>;
  /** Credentials for SigV4; the default provider chain when omitted. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** How long a fetched secret is reused. @default SECRET_TTL_MS */
  readonly secretTtlMs?: number;
}

export function secretsManagerFetcher(client: SecretsManagerClient): (secretArn: string) => Promise<string> {
  return async (secretArn) => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!SecretString) {
      throw new SmokeRequestError(`secret ${secretArn} has no SecretString (a binary secret cannot be used)`);
    }
    return SecretString;
  };
}

/** The basic-auth header from a secret string; the message names what is wrong, never the value. */
function basicHeaderFrom(secretArn: string, secretString: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    // JSON.parse's own message quotes the text: it would put the secret in the report.
    throw new SmokeRequestError(`secret ${secretArn} is not JSON: it must hold {"username","password"}`);
  }
  const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  for (const field of ['username', 'password'] as const) {
    if (typeof fields[field] !== 'string') {
      throw new SmokeRequestError(
        `secret ${secretArn}: field "${field}" is ${field in fields ? 'not a string' : 'missing'}; ` +
          'it must hold JSON {"username","password"} with string values',
      );
    }
  }
  return `Basic ${Buffer.from(`${fields.username}:${fields.password}`).toString('base64')}`;
}

/** RFC 6901 JSON pointer lookup. */
export function pointerValue(document: unknown, pointer: string): unknown {
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

interface Answer {
  readonly status: number;
  readonly json: unknown;
  readonly durationMs: number;
}

class SmokeRequestError extends Error {}

/**
 * Sends each check to the source path (:9201) and the target path (:9202) and compares where asked.
 * A failing check is a result, never a throw; credentials never appear in a result or an error.
 */
export class HttpSmokeTester implements SmokePort {
  /** The header from the last successful fetch and when it expires; a failed fetch is never kept. */
  private basicAuth?: { readonly header: Promise<string>; readonly expiresAt: number };

  constructor(
    private readonly config: SmokeConfig,
    private readonly deps: SmokeDeps = {},
  ) {}

  private basicHeader(secretArn: string): Promise<string> {
    const cached = this.basicAuth;
    if (cached && Date.now() < cached.expiresAt) return cached.header;
    const header = this.fetchBasicHeader(secretArn);
    const entry = { header, expiresAt: Date.now() + (this.deps.secretTtlMs ?? SECRET_TTL_MS) };
    this.basicAuth = entry;
    // A failure (access denied, a throttled call) must not refuse every later start of this container.
    header.catch(() => {
      if (this.basicAuth === entry) this.basicAuth = undefined;
    });
    return header;
  }

  private async fetchBasicHeader(secretArn: string): Promise<string> {
    if (!this.deps.fetchSecret) throw new SmokeRequestError('basic auth needs a secret fetcher');
    let secretString: string;
    try {
      secretString = await this.deps.fetchSecret(secretArn);
    } catch (error) {
      if (error instanceof SmokeRequestError) throw error;
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      throw new SmokeRequestError(`could not read secret ${secretArn}: ${name}: ${message}`);
    }
    return basicHeaderFrom(secretArn, secretString);
  }

  private async credentials(): Promise<AwsCredentialIdentity> {
    if (this.deps.credentials) return this.deps.credentials();
    // Loaded only when SigV4 is configured: the local mode and the tests need no AWS credentials.
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    return defaultProvider()();
  }

  private async headersFor(
    url: URL,
    method: string,
    body: string | undefined,
  ): Promise<Record<string, string>> {
    const headers: Record<string, string> = { host: url.host, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const auth = this.config.auth;
    if (auth.type === 'basic') headers.authorization = await this.basicHeader(auth.secretArn);
    if (auth.type === 'sigv4') {
      const signer = new SignatureV4({
        service: auth.service,
        region: auth.region,
        credentials: () => this.credentials(),
        sha256: Sha256,
      });
      const payloadHash = Buffer.from(
        await (async () => {
          const hash = new Sha256();
          hash.update(body ?? '');
          return hash.digest();
        })(),
      ).toString('hex');
      // OpenSearch Serverless requires the payload hash header.
      if (auth.service === 'aoss') headers['x-amz-content-sha256'] = payloadHash;
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      return signed.headers as Record<string, string>;
    }
    return headers;
  }

  private pinnedAgentCache?: PinnedCertificateAgent;

  private get pinnedAgent(): PinnedCertificateAgent | undefined {
    const pin = this.config.trustedCertificateSha256;
    if (pin) this.pinnedAgentCache ??= new PinnedCertificateAgent(pin);
    return this.pinnedAgentCache;
  }

  private async call(endpoint: string, check: SmokeCheck): Promise<Answer> {
    const url = new URL(`${endpoint.replace(/\/$/, '')}${check.path}`);
    const body = check.body === undefined ? undefined : JSON.stringify(check.body);
    const headers = await this.headersFor(url, check.method, body);
    const started = performance.now();
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Answer>((resolve, reject) => {
      const call = send(
        url,
        {
          method: check.method,
          headers,
          timeout: this.config.timeoutMs,
          // Opt-in only: a sandbox ALB with a self-signed certificate.
          ...(url.protocol === 'https:' ? { rejectUnauthorized: !this.config.insecureTls } : {}),
          ...(url.protocol === 'https:' && this.pinnedAgent ? { agent: this.pinnedAgent } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              json = undefined;
            }
            resolve({
              status: response.statusCode ?? 0,
              json,
              durationMs: Math.round(performance.now() - started),
            });
          });
        },
      );
      call.on('timeout', () =>
        call.destroy(new SmokeRequestError(`timed out after ${this.config.timeoutMs} ms`)),
      );
      call.on('error', (error) =>
        reject(
          error instanceof SmokeRequestError ? error : new SmokeRequestError(describeNetworkError(error)),
        ),
      );
      call.end(body);
    });
  }

  private judge(check: SmokeCheck, answer: Answer): { ok: boolean; detail: string } {
    const expected = Array.isArray(check.expectStatus) ? check.expectStatus : [check.expectStatus];
    let ok = expected.includes(answer.status);
    let detail = `status ${answer.status}, expected ${expected.join(' or ')}`;
    if (ok && check.expectJson) {
      const value = pointerValue(answer.json, check.expectJson.pointer);
      if (check.expectJson.notEqual !== undefined && value === check.expectJson.notEqual) ok = false;
      if (check.expectJson.equal !== undefined && value !== check.expectJson.equal) ok = false;
      detail += `; ${check.expectJson.pointer} is ${JSON.stringify(value)}`;
    }
    return { ok, detail };
  }

  async run(): Promise<SmokeReport> {
    const results: SmokeCheckResult[] = [];
    for (const check of this.config.checks ?? DEFAULT_SMOKE_CHECKS) {
      const name = check.name ?? `${check.method} ${check.path}`;
      const compared: Partial<Record<'source' | 'target', unknown>> = {};
      for (const path of ['source', 'target'] as const) {
        const endpoint = path === 'source' ? this.config.sourceEndpoint : this.config.targetEndpoint;
        try {
          const answer = await this.call(endpoint, check);
          const { ok, detail } = this.judge(check, answer);
          if (check.compare) compared[path] = pointerValue(answer.json, check.compare.pointer);
          results.push({ name, path, ok, detail, durationMs: answer.durationMs });
        } catch (error) {
          const why = error instanceof SmokeRequestError ? error.message : 'request failed';
          results.push({ name, path, ok: false, detail: `${path} ${name}: ${why}`, durationMs: 0 });
        }
      }
      if (check.compare) results.push(compareResult(name, check.compare, compared));
    }
    return { ok: results.every((result) => result.ok), results };
  }
}

function describeNetworkError(error: Error): string {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (
    code?.startsWith('ERR_TLS') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN'
  ) {
    if (error instanceof CertificatePinMismatch) return `TLS error ${code}: ${error.message}`;
    return `TLS error ${code}: fix the certificate, pin it with trustedCertificateSha256, or set insecureTls for a sandbox`;
  }
  return code ?? error.name;
}

function compareResult(
  name: string,
  compare: NonNullable<SmokeCheck['compare']>,
  values: Partial<Record<'source' | 'target', unknown>>,
): SmokeCheckResult {
  const { source, target } = values;
  const tolerance = compare.tolerancePercent;
  const ok =
    typeof source === 'number' && typeof target === 'number'
      ? Math.abs(source - target) <= (Math.abs(source) * tolerance) / 100
      : source !== undefined && JSON.stringify(source) === JSON.stringify(target);
  return {
    name,
    path: 'compare',
    ok,
    detail: `${compare.pointer}: source ${JSON.stringify(source)}, target ${JSON.stringify(target)} (tolerance ${tolerance} %)`,
    durationMs: 0,
  };
}
