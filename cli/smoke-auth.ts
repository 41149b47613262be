import { ValidationFailed } from '#domain/errors.ts';
import type { SwingConfigInput } from '../infra/config.ts';
import { AUTH_HELP } from './definitions/options.ts';

type SmokeAuth = NonNullable<SwingConfigInput['smoke']>['auth'];

/** `--smoke-auth`: the one thing the Migration Assistant's ALB does not tell, so the operator says it. */
export function smokeAuthFrom(text: string | undefined, region: string): SmokeAuth {
  const [kind, ...rest] = (text ?? '').split(':');
  const value = rest.join(':');
  if (kind === 'none' && value === '') return { type: 'none' };
  if (kind === 'basic' && value.startsWith('arn:')) return { type: 'basic', secretArn: value };
  if (kind === 'sigv4' && (value === 'es' || value === 'aoss'))
    return { type: 'sigv4', service: value, region };
  throw new ValidationFailed([
    {
      field: '--smoke-auth',
      message:
        text === undefined
          ? `is required: how the smoke checks authenticate to the clusters through the proxies: ${AUTH_HELP}`
          : `is '${text}': use ${AUTH_HELP}`,
    },
  ]);
}
