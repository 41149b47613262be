import * as z from 'zod';
import { ValidationFailed } from './errors.ts';
import { parseOrThrow, strictObjectOf } from './validation.ts';

const HTTP_STATUS = z
  .number({ error: 'must be an HTTP status code, e.g. 200' })
  .int({ error: 'must be a whole HTTP status code, e.g. 200' })
  .min(100, { error: 'must be an HTTP status code (100-599)' })
  .max(599, { error: 'must be an HTTP status code (100-599)' });
const JSON_POINTER = z
  .string({ error: 'must be a JSON pointer into the response, e.g. /count' })
  .regex(/^(\/.*)?$/, { error: "must be a JSON pointer: '' or starting with '/', e.g. /count" });

const CheckSchema = strictObjectOf(
  {
    name: z.string({ error: 'must be text naming the check' }).optional(),
    method: z
      .enum(['GET', 'POST', 'PUT', 'HEAD', 'DELETE'], { error: 'must be GET, POST, PUT, HEAD or DELETE' })
      .default('GET'),
    path: z
      .string({ error: "is required: the request path, e.g. '/_cluster/health'" })
      .startsWith('/', { error: "must start with '/', e.g. /_cluster/health" }),
    body: z.unknown().optional(),
    expectStatus: z
      .union([HTTP_STATUS, z.array(HTTP_STATUS).min(1)], {
        error: 'must be an HTTP status code or a list of them, e.g. 200 or [200, 201]',
      })
      .default(200),
    compare: strictObjectOf(
      {
        pointer: JSON_POINTER,
        tolerancePercent: z
          .number({ error: 'must be a percent, e.g. 1' })
          .min(0, { error: 'must be 0-100' })
          .max(100, { error: 'must be 0-100' })
          .default(0),
      },
      'an object like { "pointer": "/count", "tolerancePercent": 1 }',
    ).optional(),
    expectJson: strictObjectOf(
      { pointer: JSON_POINTER, equal: z.unknown().optional(), notEqual: z.unknown().optional() },
      'an object like { "pointer": "/status", "notEqual": "red" }',
    ).optional(),
  },
  'an object like { "path": "/_cluster/health", "expectStatus": 200 }',
);

export const SmokeConfigSchema = strictObjectOf(
  {
    sourceEndpoint: z.url({
      protocol: /^https?$/,
      error: 'must be the source path URL (http or https), e.g. https://alb.example.com:9201',
    }),
    targetEndpoint: z.url({
      protocol: /^https?$/,
      error: 'must be the target path URL (http or https), e.g. https://alb.example.com:9202',
    }),
    timeoutMs: z
      .number({ error: 'must be a number of milliseconds, e.g. 5000' })
      .int({ error: 'must be a whole number of milliseconds' })
      .min(100, { error: 'must be at least 100 ms' })
      .max(60_000, { error: 'must be at most 60000 ms (one minute)' })
      .default(5000),
    insecureTls: z
      .boolean({ error: 'must be true (accept a self-signed certificate) or false' })
      .default(false),
    /**
     * Trust exactly this certificate (its SHA-256 fingerprint), whatever its issuer and names: the Migration
     * Assistant's ALB serves a self-signed certificate for a name in a private zone. Nothing is sent to a
     * server that presents another certificate.
     */
    trustedCertificateSha256: z
      .string({ error: 'must be a SHA-256 certificate fingerprint, e.g. AB:CD:...(32 bytes in hex)' })
      .regex(/^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, {
        error:
          'must be a SHA-256 certificate fingerprint: 32 bytes in hex, colons optional ' +
          '(openssl x509 -noout -fingerprint -sha256)',
      })
      .transform((hex) => hex.replaceAll(':', '').toUpperCase().match(/../g)!.join(':'))
      .optional(),
    auth: z
      .discriminatedUnion(
        'type',
        [
          strictObjectOf({ type: z.literal('none') }, 'an object like { "type": "none" }'),
          strictObjectOf(
            {
              type: z.literal('basic'),
              secretArn: z
                .string({ error: 'is required: the Secrets Manager ARN of { "username", "password" }' })
                .min(1, {
                  error: 'must not be empty: the Secrets Manager ARN of { "username", "password" }',
                }),
            },
            'an object like { "type": "basic", "secretArn": "arn:aws:secretsmanager:..." }',
          ),
          strictObjectOf(
            {
              type: z.literal('sigv4'),
              service: z.enum(['es', 'aoss'], {
                error: "must be 'es' (OpenSearch Service) or 'aoss' (OpenSearch Serverless)",
              }),
              region: z
                .string({ error: 'is required: the cluster region, e.g. us-east-1' })
                .min(1, { error: 'must not be empty: the cluster region, e.g. us-east-1' }),
            },
            'an object like { "type": "sigv4", "service": "es", "region": "us-east-1" }',
          ),
        ],
        { error: "must have a type of 'none', 'basic' (a Secrets Manager secret) or 'sigv4' (es or aoss)" },
      )
      .default({ type: 'none' }),
    checks: z
      .array(CheckSchema, { error: 'must be a list of checks, e.g. [{ "path": "/_cluster/health" }]' })
      .min(1, { error: 'must hold at least one check, or be left out for the default checks' })
      .optional(),
  },
  'an object like { "sourceEndpoint": "https://...:9201", "targetEndpoint": "https://...:9202" }',
);
export type SmokeConfig = z.infer<typeof SmokeConfigSchema>;
export type SmokeCheck = z.infer<typeof CheckSchema>;

export function parseSmokeConfig(input: unknown, field = 'smoke'): SmokeConfig {
  const config = parseOrThrow(SmokeConfigSchema, input, field);
  if (config.insecureTls && config.trustedCertificateSha256) {
    throw new ValidationFailed([
      {
        field: `${field}.insecureTls`,
        message:
          'cannot be true together with trustedCertificateSha256: pinning the certificate is the safe way to ' +
          'reach a self-signed ALB; remove insecureTls',
      },
    ]);
  }
  return config;
}

export const DEFAULT_SMOKE_CHECKS: SmokeCheck[] = [
  { method: 'GET', path: '/', expectStatus: 200 },
  {
    method: 'GET',
    path: '/_cluster/health',
    expectStatus: 200,
    expectJson: { pointer: '/status', notEqual: 'red' },
  },
];
