import type { Context } from 'aws-lambda';
import { logger } from './logger.ts';

/**
 * Wraps an engine function as a Lambda handler: one log line per failure with the error's Step Functions
 * name, then rethrow so the runtime reports that name as the errorType the ASL matches.
 */
export function lambdaHandler<T>(name: string, run: (event: unknown, context?: Context) => Promise<T>) {
  return async (event: unknown, context?: Context): Promise<T> => {
    if (context) logger.addContext(context);
    logger.appendKeys({ handler: name });
    try {
      return await run(event, context);
    } catch (error) {
      logger.error('task failed', {
        errorName: error instanceof Error ? error.name : 'Unknown',
        errorMessage: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      logger.resetKeys();
    }
  };
}
