import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';
import { AUTH_HELP, collect } from './options.ts';

export function registerInit(program: Command, deps: CliDeps): void {
  program
    .command('init')
    .description('Write a Swing config for a Migration Assistant deployment: classic (ECS) or 3.x on EKS')
    .option('--migration-stage <stage>', 'classic (ECS) deployment: the Migration Assistant stage, e.g. dev')
    .option('--eks-cluster <name>', '3.x on EKS: the cluster (Swing brings the front door; see below)')
    .option('--namespace <ns>', 'with --eks-cluster: the namespace of the capture proxy', 'ma')
    .option('--proxy <name>', 'with --eks-cluster: the capture proxy, when the namespace has several')
    .option(
      '--stage <stage>',
      "with --eks-cluster: the stage (metrics' qualifier), if the cluster name does not tell",
    )
    .option('--target-endpoint <url>', 'with --eks-cluster: the target cluster, if no replayer names it')
    .option('--certificate-arn <arn>', "with --eks-cluster: the front door's ACM certificate")
    .option('--domain-name <name>', 'with --eks-cluster: the name clients use for the front door')
    .option(
      '--allowed-cidr <cidr>',
      "with --eks-cluster: the clients' network (repeatable; default the VPC's)",
      collect,
    )
    .option(
      '--subnet <id>',
      "with --eks-cluster: the front door's subnets (repeatable; default the cluster's private ones, one per zone)",
      collect,
    )
    .option('--kube-context <name>', 'with --eks-cluster: the kubeconfig context (default: its current one)')
    .option(
      '--manifests-dir <dir>',
      'with --eks-cluster: where to write the Kubernetes manifests',
      'swing-manifests',
    )
    .option('--smoke-auth <auth>', `how smoke checks authenticate: ${AUTH_HELP}`)
    .option('--out <file>', 'where to write the config', 'swing.config.json')
    .option('--force', 'overwrite --out if it exists')
    .option('--source-url <url>', 'the source smoke URL, when SSM has no albSourceProxyUrl')
    .option('--target-url <url>', 'the target smoke URL, when SSM has no albTargetProxyUrl')
    .option('--trust-certificate-sha256 <fingerprint>', "pin the ALB's certificate without reading ACM")
    .option(
      '--smoke-security-group <sg-id>',
      "security group of the smoke-test function (repeatable; default: the ALB's own groups)",
      collect,
    )
    .option('--notify <email>', 'who is told about each outcome (repeatable)', collect)
    .addHelpText(
      'after',
      `
Finds, by the names the Migration Assistant's CDK deployment gives them: the ALB MigrationAssistant-<stage>,
its weighted listener (443 since MA 2.2.2, 9200 before: whichever forwards to both proxies), the target
groups ALBSourceProxy-<stage>-TG and ALBTargetProxy-<stage>-TG, and the smoke URLs in SSM
(/migration/<stage>/default/albSourceProxyUrl, albTargetProxyUrl). It checks they fit together, pins the
ALB's self-signed certificate (read from ACM) so the smoke checks can reach it, and writes an import-mode
config. Anything missing or shaped otherwise is named with its fix, and nothing is written.
Needs: elasticloadbalancing:Describe*, ssm:GetParameters, acm:DescribeCertificate, acm:GetCertificate.

With --eks-cluster (Migration Assistant 3.x on EKS, which has no ALB): finds the cluster's VPC, its private
subnets (one per zone, two zones or more; --subnet to choose) and security group (EKS DescribeCluster, EC2
DescribeVpcs, DescribeSubnets, DescribeRouteTables), and through your kubeconfig the capture proxy's Service
(selector migrations/proxy), its Deployment's image, the TargetGroupBinding API the cluster serves and the
replayer's target; writes a front-door config and the target proxy's manifests (and the TargetGroupBindings
once the stack is deployed: swing front-door manifests). It refuses, writing nothing, when there is no such
Service, no TargetGroupBinding API, no private subnets in two zones, or the proxy is not in the cluster's VPC.
See docs/migration-assistant.md.
Needs: eks:DescribeCluster, ec2:DescribeVpcs, ec2:DescribeSubnets, ec2:DescribeRouteTables,
cloudformation:DescribeStacks; in the namespace, list services, deployments and pods; get
customresourcedefinitions.

Examples:
  $ swing init --migration-stage dev --smoke-auth none
  $ swing init --migration-stage prod --region eu-west-1 --smoke-auth basic:arn:aws:secretsmanager:...
  $ swing init --eks-cluster migration-eks-cluster-dev-us-east-1 --namespace ma --smoke-auth none \\
      --certificate-arn arn:aws:acm:... --domain-name search.migration.example.com`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/init.ts')).runInit));
}
