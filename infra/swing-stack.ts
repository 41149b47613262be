import { Stack, type StackProps, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { SwingConfig } from './config.ts';
import { FrontDoorAlb, frontDoorOutputs } from './front-door.ts';
import type { HandlerFunctionFactory } from './handler-functions.ts';
import { RolloutController } from './rollout-controller.ts';
import type { SandboxAlb } from './sandbox-alb.ts';
import { controllerProps } from './stack/controller-props.ts';
import { swingStackOutputs } from './stack/outputs.ts';
import { createdAlbPlacement, importedPlacement, sandboxAlb } from './stack/placement.ts';

export interface SwingStackProps extends StackProps {
  /** Parsed with `parseSwingConfig` / `loadSwingConfig`. */
  readonly config: SwingConfig;
  /** @default bundledHandler */
  readonly handlerFunction?: HandlerFunctionFactory;
}

/**
 * The Swing app's one stack: import mode wraps an existing listener; create mode builds a sandbox ALB too;
 * front-door mode builds an ALB in an existing VPC (Migration Assistant 3.x on EKS).
 */
export class SwingStack extends Stack {
  readonly controller: RolloutController;
  readonly sandbox?: SandboxAlb;
  readonly frontDoor?: FrontDoorAlb;
  private readonly zones?: string[];

  constructor(scope: Construct, id: string, props: SwingStackProps) {
    const { config } = props;
    super(scope, id, {
      description: `Swing: progressive traffic swing of a migration ALB listener (${config.mode} mode)`,
      ...props,
      env: props.env ?? config.env,
    });
    this.zones = config.create?.availabilityZones;

    if (config.mode === 'create' && config.create) {
      this.sandbox = sandboxAlb(this, config.create, config.smoke);
    } else if (config.mode === 'front-door' && config.frontDoor) {
      this.frontDoor = new FrontDoorAlb(this, 'FrontDoor', config.frontDoor);
    } else if (!config.import) {
      throw new Error(
        `config.mode is ${config.mode} but config.${config.mode} is missing: parse it with parseSwingConfig`,
      );
    }
    const alb = this.sandbox ?? this.frontDoor;
    const placement = alb ? createdAlbPlacement(alb) : importedPlacement(this, config.import!);

    this.controller = new RolloutController(
      this,
      'Controller',
      controllerProps(config, placement, props.handlerFunction),
    );
    // An internal ALB: the smoke-test function runs beside it and needs its way in.
    if (alb?.smokeNetwork) alb.allowSmokeFrom(this.controller.functions['smoke-test']);

    swingStackOutputs(this, { config, controller: this.controller, placement, alb });
    if (this.frontDoor) frontDoorOutputs(this, this.frontDoor);
  }

  /**
   * With a concrete account and region, CDK would look the zones up in the account (a context lookup that
   * needs credentials). Naming them keeps `cdk synth` offline: `create.availabilityZones`, else the region's
   * "a" and "b" zones.
   */
  override get availabilityZones(): string[] {
    if (Token.isUnresolved(this.account) || Token.isUnresolved(this.region)) return super.availabilityZones;
    return this.zones ?? [`${this.region}a`, `${this.region}b`];
  }
}
