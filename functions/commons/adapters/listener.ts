import {
  type Action,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  type TargetGroupStickinessConfig,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  classifyAwsError,
  type FieldIssue,
  ListenerShapeInvalid,
  TransientFailure,
  ValidationFailed,
  WeightsNotApplied,
} from '#domain/errors.ts';
import type { ListenerPort, ListenerTarget, Weights } from '#domain/types.ts';

export interface AlbListenerOptions {
  /** Read-backs after ModifyListener before giving up with `WeightsNotApplied`. At least 1. @default 3 */
  readonly verifyAttempts?: number;
  /** Pause between read-backs. @default 200 */
  readonly verifyDelayMs?: number;
}

/** ALB forward weights are integers in this range per target group. */
const MAX_WEIGHT = 999;

/**
 * What the ELBv2 API reference leaves unsaid: `TargetGroupTuple.Weight` has no documented default there.
 * CDK documents 1 as the weight it applies when none is given, and DescribeListeners returns a weight for every
 * tuple in practice, so an omitted weight is read as 1 (an equal share).
 */
export const OMITTED_WEIGHT = 1;

interface ForwardShape {
  /** Index, in the listener's own list order, of the forward that ends the default actions. */
  readonly index: number;
  readonly weights: Weights;
  readonly stickiness: TargetGroupStickinessConfig | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const sameWeights = (a: Weights, b: Weights) => a.source === b.source && a.target === b.target;

/** The action ALB performs last: the highest `Order`; a list of one may omit `Order`, ties keep list order. */
function finalActionIndex(actions: readonly Action[]): number {
  let last = -1;
  let lastOrder = Number.NEGATIVE_INFINITY;
  actions.forEach((action, index) => {
    const order = action.Order ?? Number.MAX_SAFE_INTEGER;
    if (order >= lastOrder) {
      last = index;
      lastOrder = order;
    }
  });
  return last;
}

/** Target groups a forward sends to, as [arn, weight]: the weighted tuples, or the plain `TargetGroupArn`. */
export function forwardedGroups(action: Action): { arn: string; weight: number | undefined }[] {
  const tuples = action.ForwardConfig?.TargetGroups ?? [];
  if (tuples.length > 0)
    return tuples.map((tuple) => ({ arn: tuple.TargetGroupArn ?? '', weight: tuple.Weight }));
  return action.TargetGroupArn ? [{ arn: action.TargetGroupArn, weight: undefined }] : [];
}

/** Never send a pair ALB would refuse or that routes nothing: the listener (or rule) must stay as it is. */
export function refuseUnwritableWeights(weights: Weights): void {
  const issues: FieldIssue[] = [];
  for (const side of ['source', 'target'] as const) {
    const value = weights[side];
    if (!Number.isInteger(value) || value < 0 || value > MAX_WEIGHT) {
      issues.push({
        field: `weights.${side}`,
        message: `${value} is not an ALB weight: use an integer from 0 to ${MAX_WEIGHT}`,
      });
    }
  }
  if (issues.length === 0 && weights.source + weights.target === 0) {
    issues.push({
      field: 'weights',
      message: 'source and target are both 0, which sends traffic nowhere: give one of them a weight above 0',
    });
  }
  if (issues.length > 0) throw new ValidationFailed(issues);
}

/** The configured listener ARN names no listener: a configuration error, refused by name. */
export function listenerNotFound(listenerArn: string, cause?: unknown): ListenerShapeInvalid {
  return new ListenerShapeInvalid(
    `listener ${listenerArn} was not found: set the listener ARN in the config to the ARN of the ` +
      'weighted 9200 listener (aws elbv2 describe-listeners --load-balancer-arn <alb>)',
    { cause },
  );
}

/** Drops keys whose value is undefined, so the request carries only what the listener really has. */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .map(([key, entry]) => [key, withoutUndefined(entry)]),
  ) as T;
}

/**
 * An action that is not the forward, made fit to send back as it is. DescribeListeners never returns an OIDC
 * client secret and ModifyListener requires one unless told to keep the existing secret.
 */
function unchangedForWrite(action: Action): Action {
  const oidc = action.AuthenticateOidcConfig;
  if (action.Type !== 'authenticate-oidc' || !oidc || oidc.ClientSecret !== undefined) return action;
  return { ...action, AuthenticateOidcConfig: { ...oidc, UseExistingClientSecret: true } };
}

/**
 * The weighted 9200 listener, read and written by its exact ARN (never by scanning the load balancer).
 *
 * Shape accepted: the action ALB performs last (after any authenticate-* or JWT validation) is a forward to
 * exactly the source and the target group. A forward to just one of the two (a plain `TargetGroupArn`, or the
 * one-tuple `ForwardConfig` that DescribeListeners reports alongside it) is read as all traffic there:
 * weights 1 / 0 (or 0 / 1), and the first write turns it into a weighted forward to both.
 */
export class AlbListener implements ListenerPort {
  private readonly verifyAttempts: number;
  private readonly verifyDelayMs: number;

  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly target: ListenerTarget,
    options: AlbListenerOptions = {},
  ) {
    // A write is never taken on trust: at least one read-back, whatever the option says.
    this.verifyAttempts = Math.max(1, options.verifyAttempts ?? 3);
    this.verifyDelayMs = Math.max(0, options.verifyDelayMs ?? 200);
  }

  async readWeights(): Promise<Weights> {
    return this.shapeOf(await this.defaultActions()).weights;
  }

  async writeWeights(weights: Weights): Promise<void> {
    refuseUnwritableWeights(weights);
    // Described right before the write: ModifyListener replaces the whole list, so what we keep must be current.
    const actions = await this.defaultActions();
    const forward = this.shapeOf(actions);
    const updated = actions.map((action, index) =>
      index === forward.index ? this.reweighted(action, weights) : unchangedForWrite(action),
    );
    try {
      await this.client.send(
        new ModifyListenerCommand({
          ListenerArn: this.target.listenerArn,
          DefaultActions: withoutUndefined(updated),
        }),
      );
    } catch (error) {
      throw classifyAwsError(error, `ModifyListener ${this.target.listenerArn}`);
    }
    await this.verify(weights);
  }

  async healthyTargetCount(): Promise<number> {
    try {
      const response = await this.client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: this.target.targetTargetGroupArn }),
      );
      return (response.TargetHealthDescriptions ?? []).filter(
        (description) => description.TargetHealth?.State === 'healthy',
      ).length;
    } catch (error) {
      throw classifyAwsError(error, `DescribeTargetHealth ${this.target.targetTargetGroupArn}`);
    }
  }

  async stickinessSeconds(): Promise<number | undefined> {
    const { stickiness } = this.shapeOf(await this.defaultActions());
    return stickiness?.Enabled ? stickiness.DurationSeconds : undefined;
  }

  private async defaultActions(): Promise<Action[]> {
    const arn = this.target.listenerArn;
    let listeners: { ListenerArn?: string; DefaultActions?: Action[] }[];
    try {
      const response = await this.client.send(new DescribeListenersCommand({ ListenerArns: [arn] }));
      listeners = response.Listeners ?? [];
    } catch (error) {
      if (error instanceof Error && error.name === 'ListenerNotFoundException') throw this.notFound(error);
      throw classifyAwsError(error, `DescribeListeners ${arn}`);
    }
    const listener = listeners.find((candidate) => candidate.ListenerArn === arn);
    if (!listener) throw this.notFound();
    return listener.DefaultActions ?? [];
  }

  private notFound(cause?: unknown): ListenerShapeInvalid {
    return listenerNotFound(this.target.listenerArn, cause);
  }

  private shapeOf(actions: readonly Action[]): ForwardShape {
    const { listenerArn, sourceTargetGroupArn: source, targetTargetGroupArn: target } = this.target;
    const expected = `expected exactly source ${source} and target ${target}`;
    const fix = 'fix the target group ARNs in the config or the listener';
    if (source === target) {
      throw new ListenerShapeInvalid(
        `source and target target group are both ${source}: configure two different target groups`,
      );
    }
    const index = finalActionIndex(actions);
    const final = actions[index];
    if (final?.Type !== 'forward') {
      const found =
        actions.length === 0 ? 'no actions' : `[${actions.map((action) => action.Type).join(', ')}]`;
      throw new ListenerShapeInvalid(
        `listener ${listenerArn} default actions are ${found}, which do not end in a forward; ${expected}: ${fix}`,
      );
    }
    const groups = forwardedGroups(final);
    const arns = groups.map((group) => group.arn);
    const stickiness = final.ForwardConfig?.TargetGroupStickinessConfig;
    const weightOf = (arn: string) => groups.find((group) => group.arn === arn)?.weight ?? OMITTED_WEIGHT;
    if (groups.length === 2 && arns.includes(source) && arns.includes(target)) {
      return { index, weights: { source: weightOf(source), target: weightOf(target) }, stickiness };
    }
    if (groups.length === 1 && (arns[0] === source || arns[0] === target)) {
      const toSource = arns[0] === source;
      return { index, weights: { source: toSource ? 1 : 0, target: toSource ? 0 : 1 }, stickiness };
    }
    throw new ListenerShapeInvalid(
      `listener ${listenerArn} default action forwards to [${arns.join(', ')}]; ${expected}: ${fix}`,
    );
  }

  /** The forward with only the two weights changed; a single-group forward becomes a weighted one. */
  private reweighted(action: Action, weights: Weights): Action {
    const { sourceTargetGroupArn: source, targetTargetGroupArn: target } = this.target;
    const current = action.ForwardConfig?.TargetGroups ?? [];
    const tuples = current.length === 2 ? current : [{ TargetGroupArn: source }, { TargetGroupArn: target }];
    const weightFor = (arn: string | undefined) => (arn === source ? weights.source : weights.target);
    const { TargetGroupArn: _plainGroup, ...rest } = action;
    // TargetGroupArn must go: alongside ForwardConfig, AWS allows it only for a one-group forward.
    // Stickiness is always written off: Preflight refuses a sticky forward, so this changes nothing Swing was
    // given, and stickiness turned on by hand mid-rollout must not keep clients on the target past a restore.
    return {
      ...rest,
      ForwardConfig: {
        ...action.ForwardConfig,
        TargetGroups: tuples.map((tuple) => ({ ...tuple, Weight: weightFor(tuple.TargetGroupArn) })),
        TargetGroupStickinessConfig: { Enabled: false },
      },
    };
  }

  /** Reads the listener back until it shows the weights written; ELBv2 reads can briefly lag a write. */
  private async verify(weights: Weights): Promise<void> {
    let seen: Weights | undefined;
    let failure: unknown;
    for (let attempt = 0; attempt < this.verifyAttempts; attempt += 1) {
      if (attempt > 0 && this.verifyDelayMs > 0) await sleep(this.verifyDelayMs);
      try {
        seen = await this.readWeights();
        failure = undefined;
      } catch (error) {
        // A throttled read-back says nothing about the write: try again, and let the ASL retry if it persists.
        if (!(error instanceof TransientFailure)) throw error;
        failure = error;
        continue;
      }
      if (sameWeights(seen, weights)) return;
    }
    if (failure) throw failure;
    throw new WeightsNotApplied(
      `wrote source ${weights.source} / target ${weights.target} to listener ${this.target.listenerArn} but ` +
        `read back source ${seen?.source} / target ${seen?.target} after ${this.verifyAttempts} reads: ` +
        'another writer may have changed the listener; check it with describe-listeners, then retry',
    );
  }
}
