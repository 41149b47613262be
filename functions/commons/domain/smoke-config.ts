import * as z from 'zod';
import { parseOrThrow } from './validation.ts';

const CheckSchema = z.strictObject({
  name: z.string().optional(),
  method: z.enum(['GET', 'POST', 'PUT', 'HEAD', 'DELETE']).default('GET'),
  path: z.string().startsWith('/', { error: "must start with '/', e.g. /_cluster/health" }),
  body: z.unknown().optional(),
  expectStatus: z.union([z.number().int(), z.array(z.number().int())]).default(200),
  compare: z
    .strictObject({ pointer: z.string(), tolerancePercent: z.number().min(0).max(100).default(0) })
    .optional(),
  expectJson: z
    .strictObject({ pointer: z.string(), equal: z.unknown().optional(), notEqual: z.unknown().optional() })
    .optional(),
});

export const SmokeConfigSchema = z.strictObject({
  sourceEndpoint: z.url({
    protocol: /^https?$/,
    error: 'must be the source path URL (http or https), e.g. https://alb.example.com:9201',
  }),
  targetEndpoint: z.url({
    protocol: /^https?$/,
    error: 'must be the target path URL (http or https), e.g. https://alb.example.com:9202',
  }),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
  insecureTls: z.boolean().default(false),
  auth: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('none') }),
      z.strictObject({ type: z.literal('basic'), secretArn: z.string().min(1) }),
      z.strictObject({
        type: z.literal('sigv4'),
        service: z.enum(['es', 'aoss']),
        region: z.string().min(1),
      }),
    ])
    .default({ type: 'none' }),
  checks: z.array(CheckSchema).min(1).optional(),
});
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
