import * as z from 'zod';

/** The parts of an ARN the config's patterns share (the config and the front door's section use them). */
export const PARTITION = 'arn:aws[a-z-]*';
export const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d';
export const ACCOUNT = '\\d{12}';

export const LISTENER_ARN = new RegExp(
  `^${PARTITION}:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/[A-Za-z0-9-]+/[0-9a-f]+/[0-9a-f]+$`,
);
export const TARGET_GROUP_ARN = new RegExp(
  `^${PARTITION}:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/[A-Za-z0-9-]+/[0-9a-f]+$`,
);
export const LOAD_BALANCER_ARN = new RegExp(
  `^${PARTITION}:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/[A-Za-z0-9-]+/[0-9a-f]+$`,
);
export const SECRET_ARN = new RegExp(
  `^${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+$`,
);
export const KMS_KEY_ARN = new RegExp(`^${PARTITION}:kms:${REGION}:${ACCOUNT}:key/[A-Za-z0-9-]+$`);
export const OPENSEARCH_ARN = new RegExp(
  `^${PARTITION}:(?:es|aoss):${REGION}:${ACCOUNT}:(?:domain|collection)/.+$`,
);
export const CERTIFICATE_ARN = new RegExp(
  `^${PARTITION}:acm:${REGION}:${ACCOUNT}:certificate/[A-Za-z0-9-]+$`,
);

/** A required ARN field whose errors give an example of the right shape. */
export const arn = (pattern: RegExp, example: string) =>
  z
    .string({ error: `is required: e.g. ${example}` })
    .regex(pattern, { error: `is not a valid ARN: e.g. ${example}` });
