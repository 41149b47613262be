import {
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type RouteTable,
  type Subnet,
} from '@aws-sdk/client-ec2';

/**
 * Which of the cluster's subnets the front door goes in. An EKS cluster usually lists public and private subnets;
 * the front door is internal, so it takes the private ones (no route to an internet gateway), of the cluster's
 * VPC, one per Availability Zone (an ALB takes one subnet per zone), in two zones or more. Among a zone's private
 * subnets, the one tagged `kubernetes.io/role/internal-elb` (where the load balancer controllers put internal
 * load balancers) comes first, then the lowest id, so that the choice is the same on every run.
 */

export interface SubnetChoice {
  readonly subnetIds: string[];
  /** What init could not accept; each names `frontDoor.subnetIds` and its fix. */
  readonly problems: string[];
}

const INTERNAL_ELB_TAG = 'kubernetes.io/role/internal-elb';
const SUBNETS_FLAG = '--subnet <id> (repeatable: private subnets of the VPC in two zones or more)';

/** A subnet with a default route (IPv4 or IPv6) to an internet gateway is public; its table or the VPC's main one. */
function isPublic(subnetId: string, tables: readonly RouteTable[]): boolean {
  const own = tables.find((table) => table.Associations?.some((a) => a.SubnetId === subnetId));
  const table = own ?? tables.find((candidate) => candidate.Associations?.some((a) => a.Main));
  return (table?.Routes ?? []).some(
    (route) =>
      (route.DestinationCidrBlock === '0.0.0.0/0' || route.DestinationIpv6CidrBlock === '::/0') &&
      route.GatewayId?.startsWith('igw-') === true,
  );
}

const internalElb = (subnet: Subnet) =>
  subnet.Tags?.some((tag) => tag.Key === INTERNAL_ELB_TAG && (tag.Value === '1' || tag.Value === '')) ===
  true;

/** One subnet per zone: the tagged one first, then the lowest id. */
function onePerZone(subnets: readonly Subnet[]): Subnet[] {
  const byZone = new Map<string, Subnet>();
  const ranked = [...subnets].sort(
    (a, b) =>
      Number(internalElb(b)) - Number(internalElb(a)) || (a.SubnetId ?? '').localeCompare(b.SubnetId ?? ''),
  );
  for (const subnet of ranked) {
    const zone = subnet.AvailabilityZone ?? '';
    if (!byZone.has(zone)) byZone.set(zone, subnet);
  }
  return [...byZone.values()].sort((a, b) =>
    (a.AvailabilityZone ?? '').localeCompare(b.AvailabilityZone ?? ''),
  );
}

/**
 * The front door's subnets: from `requested` (the operator's --subnet) when given, else from the cluster's own.
 * The operator's choice is checked (same VPC, one per zone, two zones) but not for being private: they may know
 * better, e.g. a routed network where "public" tables carry only internal traffic.
 */
export async function chooseFrontDoorSubnets(
  ec2: EC2Client,
  vpcId: string,
  clusterSubnetIds: readonly string[],
  requested?: readonly string[],
): Promise<SubnetChoice> {
  const ids = requested?.length ? [...requested] : [...clusterSubnetIds];
  const field = 'frontDoor.subnetIds';
  if (ids.length === 0) {
    return {
      subnetIds: [],
      problems: [`${field}: the cluster lists no subnet: pass ${SUBNETS_FLAG}`],
    };
  }
  let subnets: Subnet[];
  let tables: RouteTable[];
  try {
    [{ Subnets: subnets = [] }, { RouteTables: tables = [] }] = await Promise.all([
      ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids })),
      ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })),
    ]);
  } catch (error) {
    if ((error as Error).name !== 'InvalidSubnetID.NotFound') throw error;
    return { subnetIds: [], problems: [`${field}: ${(error as Error).message}: check --subnet`] };
  }
  const elsewhere = subnets.filter((subnet) => subnet.VpcId !== vpcId).map((subnet) => subnet.SubnetId);
  if (requested?.length) {
    const chosen = onePerZone(subnets.filter((subnet) => subnet.VpcId === vpcId));
    const problems = [
      ...(elsewhere.length > 0
        ? [`${field}: ${elsewhere.join(', ')} not in ${vpcId}: pass subnets of the cluster's VPC`]
        : []),
      ...(chosen.length < ids.length - elsewhere.length
        ? [
            `${field}: two of --subnet ${ids.join(', ')} are in one zone: an ALB takes one subnet per ` +
              'Availability Zone; pass one per zone',
          ]
        : []),
      ...(chosen.length < 2 && elsewhere.length === 0
        ? [`${field}: --subnet gives ${chosen.length} zone(s): an ALB needs two zones or more`]
        : []),
    ];
    return { subnetIds: chosen.map((subnet) => subnet.SubnetId ?? ''), problems };
  }
  const inVpc = subnets.filter((subnet) => subnet.VpcId === vpcId);
  const publicIds = inVpc.filter((subnet) => isPublic(subnet.SubnetId ?? '', tables)).map((s) => s.SubnetId);
  const chosen = onePerZone(inVpc.filter((subnet) => !publicIds.includes(subnet.SubnetId)));
  if (chosen.length >= 2) return { subnetIds: chosen.map((subnet) => subnet.SubnetId ?? ''), problems: [] };
  const zones = chosen.map((subnet) => `${subnet.SubnetId} (${subnet.AvailabilityZone})`);
  return {
    subnetIds: [],
    problems: [
      `${field}: the cluster's private subnets in ${vpcId} span ${chosen.length} zone(s) ` +
        `(${zones.join(', ') || 'none'}; public, with a route to an internet gateway: ${publicIds.join(', ') || 'none'}): ` +
        `the internal front door needs private subnets in two zones or more: pass ${SUBNETS_FLAG}`,
    ],
  };
}
