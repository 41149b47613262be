import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

export const cloudWatchClient = new CloudWatchClient({ maxAttempts: 3 });
