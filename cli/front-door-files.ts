import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { FRONT_DOOR_OUTPUTS } from '../infra/front-door-config.ts';
import {
  type FrontDoorBindingTargets,
  type KubernetesManifest,
  manifestFiles,
} from '../infra/front-door-manifests.ts';
import { CliFailure, ExitCodes } from './exit-codes.ts';

/**
 * The deployed front door's target groups and security group, from its stack's outputs; undefined while the
 * stack does not exist (the TargetGroupBindings cannot name them before `cdk deploy`).
 */
export async function deployedFrontDoor(
  cloudFormation: CloudFormationClient,
  stackName: string,
): Promise<FrontDoorBindingTargets | undefined> {
  let outputs: Map<string, string>;
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    refuseUnfinished(stackName, Stacks?.[0]?.StackStatus);
    outputs = new Map(
      (Stacks?.[0]?.Outputs ?? []).flatMap((output) =>
        output.OutputKey && output.OutputValue ? [[output.OutputKey, output.OutputValue] as const] : [],
      ),
    );
  } catch (error) {
    // CloudFormation answers a missing stack with a ValidationError "Stack with id ... does not exist".
    if (/does not exist/.test((error as Error).message ?? '')) return undefined;
    throw error;
  }
  const securityGroup = outputs.get(FRONT_DOOR_OUTPUTS.securityGroupId);
  const source = outputs.get(FRONT_DOOR_OUTPUTS.sourceTargetGroupArn);
  const target = outputs.get(FRONT_DOOR_OUTPUTS.targetTargetGroupArn);
  if (!securityGroup || !source || !target) {
    throw new CliFailure(
      ExitCodes.BadInput,
      `stack ${stackName} has no ${FRONT_DOOR_OUTPUTS.securityGroupId} output: it is not a front-door stack ` +
        '(mode front-door), or it was deployed before that output existed: deploy it again',
    );
  }
  return {
    sourceTargetGroupArn: source,
    targetTargetGroupArn: target,
    loadBalancerSecurityGroupId: securityGroup,
  };
}

/**
 * A stack still being created or updated, or whose deploy failed, has no target groups to bind yet (or not the
 * final ones): say when to come back instead of taking its outputs, or their absence, for an answer.
 */
function refuseUnfinished(stackName: string, status: string | undefined): void {
  if (!status) return;
  if (status.endsWith('_IN_PROGRESS')) {
    throw new CliFailure(
      ExitCodes.BadInput,
      `nothing written: stack ${stackName} is ${status}: wait until cdk deploy has finished (CREATE_COMPLETE or ` +
        'UPDATE_COMPLETE), then run swing front-door manifests: the bindings name the target groups it creates',
    );
  }
  if (status.endsWith('_FAILED') || status === 'ROLLBACK_COMPLETE') {
    throw new CliFailure(
      ExitCodes.BadInput,
      `nothing written: stack ${stackName} is ${status}: its deploy failed, so its target groups are not there to ` +
        'bind; fix the deploy (its events say why) and deploy again, then run swing front-door manifests',
    );
  }
}

/** Writes one file per manifest into `dir`, refusing before it writes anything if one exists (unless `force`). */
export function writeManifests(
  dir: string,
  manifests: readonly KubernetesManifest[],
  force: boolean,
): string[] {
  const files = manifestFiles(manifests).map((file) => ({ ...file, path: join(resolve(dir), file.name) }));
  const existing = files.filter((file) => existsSync(file.path));
  if (!force && existing.length > 0) {
    throw new CliFailure(
      ExitCodes.BadInput,
      `nothing written: ${existing.map((file) => file.path).join(', ')} exist(s): choose another --manifests-dir, or pass --force`,
    );
  }
  mkdirSync(resolve(dir), { recursive: true });
  for (const file of files) writeFileSync(file.path, file.text);
  return files.map((file) => file.path);
}
