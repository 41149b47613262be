import {
  type Action,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { classifyAwsError, ListenerShapeInvalid, WeightsNotApplied } from '#domain/errors.ts';
import type { ListenerPort, ListenerTarget, Weights } from '#domain/types.ts';

export interface AlbListenerOptions {
  readonly verifyAttempts?: number;
  readonly verifyDelayMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The weighted 9200 listener, read and written by its exact ARN (never by scanning the load balancer). */
export class AlbListener implements ListenerPort {
  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly target: ListenerTarget,
    private readonly options: AlbListenerOptions = {},
  ) {}

  private async defaultActions(): Promise<Action[]> {
    try {
      const response = await this.client.send(
        new DescribeListenersCommand({ ListenerArns: [this.target.listenerArn] }),
      );
      const listener = response.Listeners?.find(
        (candidate) => candidate.ListenerArn === this.target.listenerArn,
      );
      if (!listener) throw this.notFound();
      return listener.DefaultActions ?? [];
    } catch (error) {
      if (error instanceof Error && error.name === 'ListenerNotFoundException') throw this.notFound(error);
      throw classifyAwsError(error, 'DescribeListeners');
    }
  }

  private notFound(cause?: unknown): ListenerShapeInvalid {
    return new ListenerShapeInvalid(
      `listener ${this.target.listenerArn} was not found: check LISTENER_ARN (the 9200 listener's ARN)`,
      { cause },
    );
  }

  /** The forward action, which must send to exactly the source and the target group. */
  private forwardOf(actions: Action[]): Action {
    const forward = actions.find((action) => action.Type === 'forward');
    const groups =
      forward?.ForwardConfig?.TargetGroups?.map((group) => group.TargetGroupArn) ??
      (forward?.TargetGroupArn ? [forward.TargetGroupArn] : []);
    const expected = [this.target.sourceTargetGroupArn, this.target.targetTargetGroupArn];
    const exact =
      forward?.ForwardConfig?.TargetGroups?.length === 2 && expected.every((arn) => groups.includes(arn));
    if (!forward || !exact) {
      const found = forward
        ? `forwards to [${groups.join(', ')}]`
        : `has actions [${actions.map((a) => a.Type).join(', ')}]`;
      throw new ListenerShapeInvalid(
        `listener ${this.target.listenerArn} default action ${found}; expected a weighted forward to exactly ` +
          `source ${this.target.sourceTargetGroupArn} and target ${this.target.targetTargetGroupArn}: ` +
          'fix the target group ARNs in the config, or the listener',
      );
    }
    return forward;
  }

  private weightsOf(actions: Action[]): Weights {
    const groups = this.forwardOf(actions).ForwardConfig?.TargetGroups ?? [];
    // ELBv2 treats an omitted weight as 1 in a weighted forward.
    const weightOf = (arn: string) => groups.find((group) => group.TargetGroupArn === arn)?.Weight ?? 1;
    return {
      source: weightOf(this.target.sourceTargetGroupArn),
      target: weightOf(this.target.targetTargetGroupArn),
    };
  }

  async readWeights(): Promise<Weights> {
    return this.weightsOf(await this.defaultActions());
  }

  async writeWeights(weights: Weights): Promise<void> {
    const actions = await this.defaultActions();
    this.forwardOf(actions);
    // ModifyListener replaces the whole action list: keep every action and setting, change only the weights.
    const updated = actions.map((action) =>
      action.Type !== 'forward' || !action.ForwardConfig
        ? action
        : {
            ...action,
            TargetGroupArn: undefined,
            ForwardConfig: {
              ...action.ForwardConfig,
              TargetGroups: action.ForwardConfig.TargetGroups?.map((group) => ({
                ...group,
                Weight:
                  group.TargetGroupArn === this.target.sourceTargetGroupArn ? weights.source : weights.target,
              })),
            },
          },
    );
    try {
      await this.client.send(
        new ModifyListenerCommand({ ListenerArn: this.target.listenerArn, DefaultActions: updated }),
      );
    } catch (error) {
      throw classifyAwsError(error, 'ModifyListener');
    }
    const attempts = this.options.verifyAttempts ?? 3;
    let seen: Weights | undefined;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      if (attempt > 0) await sleep(this.options.verifyDelayMs ?? 200);
      seen = await this.readWeights();
      if (seen.source === weights.source && seen.target === weights.target) return;
    }
    throw new WeightsNotApplied(
      `wrote source ${weights.source} / target ${weights.target} to ${this.target.listenerArn} but read back ` +
        `source ${seen?.source} / target ${seen?.target}: check for another writer, then retry`,
    );
  }

  async healthyTargetCount(): Promise<number> {
    try {
      const response = await this.client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: this.target.targetTargetGroupArn }),
      );
      return (response.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy')
        .length;
    } catch (error) {
      throw classifyAwsError(error, 'DescribeTargetHealth');
    }
  }

  async stickinessSeconds(): Promise<number | undefined> {
    const stickiness = this.forwardOf(await this.defaultActions()).ForwardConfig?.TargetGroupStickinessConfig;
    return stickiness?.Enabled ? stickiness.DurationSeconds : undefined;
  }
}
