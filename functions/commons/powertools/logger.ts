import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger of every Lambda handler. Per-rollout keys go through `appendKeys`; secrets never do. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'swing' });
