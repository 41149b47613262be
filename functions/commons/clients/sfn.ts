import { SFNClient } from '@aws-sdk/client-sfn';
import { SDK_CLIENT_CONFIG } from './request-timeouts.ts';

export const sfnClient = new SFNClient(SDK_CLIENT_CONFIG);
