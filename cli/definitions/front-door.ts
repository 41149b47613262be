import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';

export function registerFrontDoor(program: Command, deps: CliDeps): void {
  const frontDoor = program
    .command('front-door')
    .description(
      'The front door (mode front-door, Migration Assistant 3.x on EKS): its Kubernetes manifests',
    );
  frontDoor
    .command('manifests')
    .description("Write the front door's Kubernetes manifests from a config and its deployed stack")
    .requiredOption('--config <file>', 'the front-door config (what swing init --eks-cluster wrote)')
    .option('--manifests-dir <dir>', 'where to write them', 'swing-manifests')
    .option('--force', 'overwrite existing files')
    .addHelpText(
      'after',
      `
Writes the target proxy's Deployment and Service and the two TargetGroupBindings (source: the capture proxy's
Service; target: the target proxy's), one YAML file each, for review, GitOps or kubectl apply -f <dir>.
The bindings name the target groups and the ALB's security group from the stack's outputs (SourceTargetGroupArn,
TargetTargetGroupArn, FrontDoorSecurityGroupId): run it after npx cdk deploy. The stack is the config's
stackName unless --stack-name says otherwise. Needs cloudformation:DescribeStacks.

Example:
  $ swing front-door manifests --config swing.config.json && kubectl apply -f swing-manifests`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/front-door.ts')).runFrontDoorManifests));
}
