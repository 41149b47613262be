import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';

/** Created once per Lambda container; region and credentials from the standard environment. */
export const elbv2Client = new ElasticLoadBalancingV2Client({ maxAttempts: 3 });
