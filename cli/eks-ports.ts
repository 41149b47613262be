import type { AwsClientOptions } from './deps.ts';
import type { EksDiscoveryPorts } from './eks-front-door.ts';

/**
 * EKS, EC2 and the Kubernetes API as the operator's tools reach them: the AWS clients from the same profile and
 * region as every other command, the cluster from the kubeconfig (KUBECONFIG or ~/.kube/config, its current
 * context unless --kube-context). Loaded only by `swing init --eks-cluster`: the other commands start without
 * these modules.
 */
export async function defaultEksPorts(
  options: AwsClientOptions,
  kubeContext?: string,
): Promise<EksDiscoveryPorts> {
  const [{ EKSClient }, { EC2Client }, { KubeConfig }] = await Promise.all([
    import('@aws-sdk/client-eks'),
    import('@aws-sdk/client-ec2'),
    import('@kubernetes/client-node'),
  ]);
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    customUserAgent: 'swing-cli',
    maxAttempts: 4,
  };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  if (kubeContext) kubeConfig.setCurrentContext(kubeContext);
  return { eks: new EKSClient(config), ec2: new EC2Client(config), kubeConfig };
}
