import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { AlbMetricDimensions } from './rollout-alarms.ts';
import type { SmokeNetwork } from './rollout-controller.ts';

/**
 * An ALB that Swing creates in front of the migration (SandboxAlb, FrontDoorAlb): a weighted listener, one
 * listener per side for the smoke tests, and the two target groups. What the stack hands the controller and
 * writes into its outputs, whichever of them it created.
 */
export interface SwingAlb {
  readonly vpc: ec2.IVpc;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  /** Forwards by weight to the two target groups: the listener a rollout moves. */
  readonly weightedListener: elbv2.ApplicationListener;
  /** Reaches the source alone, for the smoke tests. */
  readonly sourceListener: elbv2.ApplicationListener;
  /** Reaches the target alone, for the smoke tests. */
  readonly targetListener: elbv2.ApplicationListener;
  readonly sourceTargetGroup: elbv2.ApplicationTargetGroup;
  readonly targetTargetGroup: elbv2.ApplicationTargetGroup;
  readonly accessLogs: s3.Bucket;
  /** The URLs of the source and target listeners. */
  readonly smokeEndpoints: { readonly source: string; readonly target: string };
  readonly metricDimensions: AlbMetricDimensions;
  /** Where the smoke-test function must run to reach an internal ALB; absent when it is internet-facing. */
  readonly smokeNetwork?: SmokeNetwork;
  /** Lets `other` (the smoke-test function) reach the source and target listeners. */
  allowSmokeFrom(other: ec2.IConnectable): void;
}
