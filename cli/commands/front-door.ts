import { ValidationFailed } from '#domain/errors.ts';
import { CONFIG_FILE_CONTEXT, loadSwingConfig } from '../../infra/config.ts';
import { frontDoorManifests } from '../../infra/front-door-manifests.ts';
import type { CommandHandler } from '../action.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { deployedFrontDoor, writeManifests } from '../front-door-files.ts';
import { DEFAULT_STACK_NAME } from '../settings.ts';

interface ManifestsOptions {
  config: string;
  manifestsDir: string;
  force?: boolean;
}

/** `swing front-door manifests`: see its definition in cli/definitions/front-door.ts. */
export const runFrontDoorManifests: CommandHandler = async (ctx, command) => {
  const options = command.opts<ManifestsOptions>();
  const config = loadSwingConfig((key) => (key === CONFIG_FILE_CONTEXT ? options.config : undefined));
  if (config.mode !== 'front-door' || !config.frontDoor) {
    throw new ValidationFailed([
      { field: '--config', message: `is a ${config.mode}-mode config: the manifests are the front door's` },
    ]);
  }
  // The global --stack-name defaults to Swing's default; the config names its own stack.
  const flag = ctx.options.stackName;
  const stackName = flag && flag !== DEFAULT_STACK_NAME ? flag : config.stackName;
  const bound = await deployedFrontDoor(ctx.clients.cloudFormation, stackName);
  if (!bound) {
    throw new CliFailure(
      ExitCodes.BadInput,
      `nothing written: stack ${stackName} does not exist: deploy it first ` +
        `(npx cdk deploy --no-notices -c swing:configFile=${options.config}); the bindings name its target groups`,
    );
  }
  const written = writeManifests(
    options.manifestsDir,
    frontDoorManifests(config.frontDoor, bound),
    options.force === true,
  );
  ctx.result({ written }, () =>
    [
      `Wrote ${written.length} manifests:`,
      ...written.map((path) => `  ${path}`),
      `Next: kubectl apply -f ${options.manifestsDir}`,
    ].join('\n'),
  );
};
