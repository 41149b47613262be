import * as z from 'zod';
import { objectError, parseOrThrow } from './validation.ts';

const HTTP_STATUS = z
  .number({ error: 'must be an HTTP status code, e.g. 200' })
  .int({ error: 'must be a whole HTTP status code, e.g. 200' })
  .min(100, { error: 'must be an HTTP status code (100-599)' })
  .max(599, { error: 'must be an HTTP status code (100-599)' });
const JSON_POINTER = z
  .string({ error: 'must be a JSON pointer into the response, e.g. /count' })
  .regex(/^(\/.*)?$/, { error: "must be a JSON pointer: '' or starting with '/', e.g. /count" });

const CheckSchema = z.strictObject(
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
    compare: z
      .strictObject(
        {
          pointer: JSON_POINTER,
          tolerancePercent: z
            .number({ error: 'must be a percent, e.g. 1' })
            .min(0, { error: 'must be 0-100' })
            .max(100, { error: 'must be 0-100' })
            .default(0),
        },
        {
          error: objectError('an object like { "pointer": "/count", "tolerancePercent": 1 }', [
            'pointer',
            'tolerancePercent',
          ]),
        },
      )
      .optional(),
    expectJson: z
      .strictObject(
        { pointer: JSON_POINTER, equal: z.unknown().optional(), notEqual: z.unknown().optional() },
        {
          error: objectError('an object like { "pointer": "/status", "notEqual": "red" }', [
            'pointer',
            'equal',
            'notEqual',
          ]),
        },
      )
      .optional(),
  },
  {
    error: objectError('an object like { "path": "/_cluster/health", "expectStatus": 200 }', [
      'name',
      'method',
      'path',
      'body',
      'expectStatus',
      'compare',
      'expectJson',
    ]),
  },
);

const AUTH_KEYS: Record<string, string[]> = {
  none: ['type'],
  basic: ['type', 'secretArn'],
  sigv4: ['type', 'service', 'region'],
};
const authObject = (type: keyof typeof AUTH_KEYS, example: string) =>
  objectError(`an object like ${example}`, AUTH_KEYS[type] ?? []);

export const SmokeConfigSchema = z.strictObject(
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
    auth: z
      .discriminatedUnion(
        'type',
        [
          z.strictObject({ type: z.literal('none') }, { error: authObject('none', '{ "type": "none" }') }),
          z.strictObject(
            {
              type: z.literal('basic'),
              secretArn: z
                .string({ error: 'is required: the Secrets Manager ARN of { "username", "password" }' })
                .min(1, {
                  error: 'must not be empty: the Secrets Manager ARN of { "username", "password" }',
                }),
            },
            { error: authObject('basic', '{ "type": "basic", "secretArn": "arn:aws:secretsmanager:..." }') },
          ),
          z.strictObject(
            {
              type: z.literal('sigv4'),
              service: z.enum(['es', 'aoss'], {
                error: "must be 'es' (OpenSearch Service) or 'aoss' (OpenSearch Serverless)",
              }),
              region: z
                .string({ error: 'is required: the cluster region, e.g. us-east-1' })
                .min(1, { error: 'must not be empty: the cluster region, e.g. us-east-1' }),
            },
            { error: authObject('sigv4', '{ "type": "sigv4", "service": "es", "region": "us-east-1" }') },
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
  {
    error: objectError(
      'an object like { "sourceEndpoint": "https://...:9201", "targetEndpoint": "https://...:9202" }',
      ['sourceEndpoint', 'targetEndpoint', 'timeoutMs', 'insecureTls', 'auth', 'checks'],
    ),
  },
);
export type SmokeConfig = z.infer<typeof SmokeConfigSchema>;
export type SmokeCheck = z.infer<typeof CheckSchema>;

export function parseSmokeConfig(input: unknown, field = 'smoke'): SmokeConfig {
  return parseOrThrow(SmokeConfigSchema, input, field);
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
