import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SDK_CLIENT_CONFIG } from './request-timeouts.ts';

export const cloudWatchClient = new CloudWatchClient(SDK_CLIENT_CONFIG);
