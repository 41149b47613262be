import { SFNClient } from '@aws-sdk/client-sfn';

export const sfnClient = new SFNClient({ maxAttempts: 3 });
