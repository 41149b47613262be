import * as z from 'zod';

/** The parts of an ARN the config's patterns share (the config and the front door's section use them). */
export const PARTITION = 'arn:aws[a-z-]*';
export const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d';
export const ACCOUNT = '\\d{12}';

export const CERTIFICATE_ARN = new RegExp(
  `^${PARTITION}:acm:${REGION}:${ACCOUNT}:certificate/[A-Za-z0-9-]+$`,
);

/** A required ARN field whose errors give an example of the right shape. */
export const arn = (pattern: RegExp, example: string) =>
  z
    .string({ error: `is required: e.g. ${example}` })
    .regex(pattern, { error: `is not a valid ARN: e.g. ${example}` });
