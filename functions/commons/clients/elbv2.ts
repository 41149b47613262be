import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SDK_CLIENT_CONFIG } from './request-timeouts.ts';

/** Created once per Lambda container; region and credentials from the standard environment. */
export const elbv2Client = new ElasticLoadBalancingV2Client(SDK_CLIENT_CONFIG);
