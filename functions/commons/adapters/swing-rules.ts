import {
  type Action,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  type ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  forwardedGroups,
  listenerNotFound,
  OMITTED_WEIGHT,
  refuseUnwritableWeights,
} from '#adapters/listener.ts';
import { conditionText } from '#adapters/listener-rules.ts';
import { describeTaggedRules, type TaggedRule } from '#adapters/tagged-rules.ts';
import {
  classifyAwsError,
  ListenerShapeInvalid,
  RuleGone,
  TransientFailure,
  WeightsNotApplied,
} from '#domain/errors.ts';
import { SWING_OWNER_TAG, SWING_RULE_TAG } from '#domain/listener-rules.ts';
import { ALB_RULE_LIMITS, SWING_PRIORITY_SPAN } from '#domain/swing-rules.ts';
import type {
  FixedResponse,
  FoundSwingRule,
  ListenerTarget,
  SwingRuleCondition,
  SwingRuleSpec,
  SwingRulesPort,
  Weights,
} from '#domain/types.ts';
import { sameWeights } from '#domain/weights.ts';

export interface AlbSwingRulesOptions {
  /** Read-backs after ModifyRule before giving up with `WeightsNotApplied`. At least 1. @default 3 */
  readonly verifyAttempts?: number;
  /** Pause between read-backs. @default 200 */
  readonly verifyDelayMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const isNamed = (error: unknown, name: string) => error instanceof Error && error.name === name;

/**
 * A condition of a kind Swing's rules never have (a host header, a regex path, ...), kept so that `isIntact`
 * sees it: it becomes a method condition whose one value is the condition in words. ALB's method values are
 * at most 40 characters of A-Z, `-` and `_`, so this value (it has spaces) never equals one of a spec's.
 */
function notSwings(condition: RuleCondition): SwingRuleCondition {
  return { field: 'http-request-method', values: [`not Swing's: ${conditionText(condition)}`] };
}

/** An ELBv2 condition in the spec's shape; DescribeRules may fill the legacy `Values` instead of the config. */
export function swingCondition(condition: RuleCondition): SwingRuleCondition {
  switch (condition.Field) {
    case 'path-pattern':
      if ((condition.PathPatternConfig?.RegexValues ?? []).length > 0) return notSwings(condition);
      return { field: 'path-pattern', values: condition.PathPatternConfig?.Values ?? condition.Values ?? [] };
    case 'http-request-method':
      return {
        field: 'http-request-method',
        values: condition.HttpRequestMethodConfig?.Values ?? condition.Values ?? [],
      };
    case 'query-string':
      return {
        field: 'query-string',
        values: (condition.QueryStringConfig?.Values ?? []).map((pair) => ({
          ...(pair.Key !== undefined ? { key: pair.Key } : {}),
          value: pair.Value ?? '',
        })),
      };
    default:
      return notSwings(condition);
  }
}

/** A spec's condition as CreateRule takes it. */
export function elbCondition(condition: SwingRuleCondition): RuleCondition {
  switch (condition.field) {
    case 'path-pattern':
      return { Field: 'path-pattern', PathPatternConfig: { Values: [...condition.values] } };
    case 'http-request-method':
      return { Field: 'http-request-method', HttpRequestMethodConfig: { Values: [...condition.values] } };
    case 'query-string':
      return {
        Field: 'query-string',
        QueryStringConfig: {
          Values: condition.values.map((pair) => ({
            ...(pair.key !== undefined ? { Key: pair.key } : {}),
            Value: pair.value,
          })),
        },
      };
  }
}

/**
 * Swing's own listener rules in reads-first mode, on the weighted listener (by its exact ARN). A rule of Swing's
 * is one weighted forward to the source and target group, stickiness off (with stickiness, clients would stay
 * where they first landed and the weights would not move the reads), tagged on creation with `swing:owner`
 * (the execution that made it) and `swing:rule` (its name in the rule set), so that it never exists untagged.
 */
export class AlbSwingRules implements SwingRulesPort {
  private readonly verifyAttempts: number;
  private readonly verifyDelayMs: number;

  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly target: ListenerTarget,
    options: AlbSwingRulesOptions = {},
  ) {
    // A write is never taken on trust: at least one read-back, whatever the option says.
    this.verifyAttempts = Math.max(1, options.verifyAttempts ?? 3);
    this.verifyDelayMs = Math.max(0, options.verifyDelayMs ?? 200);
  }

  async readSwingRules(): Promise<FoundSwingRule[]> {
    const tagged = await describeTaggedRules(this.client, this.target.listenerArn);
    return tagged
      .filter(({ tags }) => tags[SWING_OWNER_TAG] !== undefined)
      .map((rule) => this.found(rule))
      .sort((a, b) => a.priority - b.priority);
  }

  async createRule(spec: SwingRuleSpec, priority: number, weights: Weights, owner: string): Promise<string> {
    if (!spec.respond) refuseUnwritableWeights(weights);
    const listenerArn = this.target.listenerArn;
    let created: string | undefined;
    try {
      const response = await this.client.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: priority,
          Conditions: spec.conditions.map(elbCondition),
          Actions: [spec.respond ? fixedResponseAction(spec.respond) : this.forward(weights)],
          Tags: [
            { Key: SWING_OWNER_TAG, Value: owner },
            { Key: SWING_RULE_TAG, Value: spec.name },
          ],
        }),
      );
      created = response?.Rules?.[0]?.RuleArn;
    } catch (error) {
      if (isNamed(error, 'PriorityInUseException')) return this.ownRuleAt(spec, priority, owner, error);
      if (isNamed(error, 'TooManyRulesException')) {
        throw new ListenerShapeInvalid(
          `CreateRule for Swing's rule ${spec.name} at priority ${priority} on listener ${listenerArn} was ` +
            "refused: the load balancer holds its quota of rules (Service Quotas, 'Rules per Application Load " +
            `Balancer', ${ALB_RULE_LIMITS.rulesPerLoadBalancer} by default, counted over all its listeners). ` +
            'Remove rules or raise the quota, then start again',
          { cause: error },
        );
      }
      if (isNamed(error, 'ListenerNotFoundException')) throw listenerNotFound(listenerArn, error);
      throw classifyAwsError(error, `CreateRule ${spec.name} at priority ${priority} on ${listenerArn}`);
    }
    // CreateRule answers with the rule; should the answer lack its ARN, the tags find it.
    return created ?? this.ownRuleAt(spec, priority, owner);
  }

  async setRuleWeights(ruleArn: string, weights: Weights): Promise<void> {
    refuseUnwritableWeights(weights);
    try {
      // No Conditions: ModifyRule keeps what it is not given, so only the forward changes.
      await this.client.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [this.forward(weights)] }));
    } catch (error) {
      if (isNamed(error, 'RuleNotFoundException')) throw this.gone(ruleArn, 'ModifyRule', error);
      throw classifyAwsError(error, `ModifyRule ${ruleArn}`);
    }
    await this.verify(ruleArn, weights);
  }

  async setRuleResponse(ruleArn: string, respond: FixedResponse): Promise<void> {
    try {
      // No Conditions: ModifyRule keeps what it is not given, so only the action changes.
      await this.client.send(
        new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [fixedResponseAction(respond)] }),
      );
    } catch (error) {
      if (isNamed(error, 'RuleNotFoundException')) throw this.gone(ruleArn, 'ModifyRule', error);
      throw classifyAwsError(error, `ModifyRule ${ruleArn}`);
    }
  }

  async deleteRule(ruleArn: string): Promise<void> {
    try {
      await this.client.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
    } catch (error) {
      // Already gone is what was asked: a retried delete, or someone removed it first.
      if (isNamed(error, 'RuleNotFoundException')) return;
      throw classifyAwsError(error, `DeleteRule ${ruleArn}`);
    }
  }

  private found({ rule, tags }: TaggedRule): FoundSwingRule {
    const weights = this.weightsOf(rule);
    const respond = fixedResponseOf(rule);
    return {
      arn: rule.RuleArn ?? '',
      name: tags[SWING_RULE_TAG] ?? '',
      owner: tags[SWING_OWNER_TAG] ?? '',
      priority: Number(rule.Priority),
      conditions: (rule.Conditions ?? []).map(swingCondition),
      ...(weights ? { weights } : {}),
      ...(respond ? { respond } : {}),
    };
  }

  /** The weights of a rule whose only action is a forward to exactly the source and target group. */
  private weightsOf(rule: Rule): Weights | undefined {
    const { sourceTargetGroupArn: source, targetTargetGroupArn: target } = this.target;
    const actions: readonly Action[] = rule.Actions ?? [];
    const [only] = actions;
    if (actions.length !== 1 || only?.Type !== 'forward') return undefined;
    const groups = forwardedGroups(only);
    const sourceGroup = groups.find((group) => group.arn === source);
    const targetGroup = groups.find((group) => group.arn === target);
    if (groups.length !== 2 || !sourceGroup || !targetGroup) return undefined;
    return { source: sourceGroup.weight ?? OMITTED_WEIGHT, target: targetGroup.weight ?? OMITTED_WEIGHT };
  }

  private forward(weights: Weights): Action {
    return {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: this.target.sourceTargetGroupArn, Weight: weights.source },
          { TargetGroupArn: this.target.targetTargetGroupArn, Weight: weights.target },
        ],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    };
  }

  /**
   * The priority is taken. When the rule there is this very rule (same owner, same name: an earlier attempt
   * created it and its answer was lost), creating it again is done. Otherwise refused, naming the holder.
   */
  private async ownRuleAt(
    spec: SwingRuleSpec,
    priority: number,
    owner: string,
    cause?: unknown,
  ): Promise<string> {
    const listenerArn = this.target.listenerArn;
    const holder = (await describeTaggedRules(this.client, listenerArn)).find(
      ({ rule }) => Number(rule.Priority) === priority,
    );
    if (holder && holder.tags[SWING_OWNER_TAG] === owner && holder.tags[SWING_RULE_TAG] === spec.name) {
      return holder.rule.RuleArn ?? '';
    }
    if (!holder) {
      // The holder went in between (or the answer lacked the ARN): the priority is free, so try again.
      throw new TransientFailure(
        `CreateRule for Swing's rule ${spec.name} at priority ${priority} on ${listenerArn} ` +
          `${cause ? 'found the priority taken' : 'answered without the rule'}, yet no rule is at that ` +
          'priority now: create it again',
        { cause },
      );
    }
    const whose = holder.tags[SWING_OWNER_TAG]
      ? `Swing's rule ${holder.tags[SWING_RULE_TAG] ?? '(unnamed)'} of ${holder.tags[SWING_OWNER_TAG]}`
      : "someone else's rule";
    throw new ListenerShapeInvalid(
      `priority ${priority}, which Swing's rule ${spec.name} needs on listener ${listenerArn}, is taken by ` +
        `${whose} (${holder.rule.RuleArn}), added after preflight checked the listener: choose another ` +
        `rulePriority (a free range of ${SWING_PRIORITY_SPAN}) or move that rule, then start again`,
      { cause },
    );
  }

  private gone(ruleArn: string, doing: string, cause: unknown): RuleGone {
    return new RuleGone(
      ruleArn,
      `${doing}: Swing's rule ${ruleArn} on listener ${this.target.listenerArn} is gone: someone deleted it ` +
        '(aws elbv2 delete-rule, the console, or another rollout cleaning up)',
      { cause },
    );
  }

  private async readWeights(ruleArn: string): Promise<Weights | undefined> {
    try {
      const response = await this.client.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }));
      const rule = (response?.Rules ?? []).find((candidate) => candidate.RuleArn === ruleArn);
      if (!rule) throw this.gone(ruleArn, 'DescribeRules', undefined);
      return this.weightsOf(rule);
    } catch (error) {
      if (isNamed(error, 'RuleNotFoundException')) throw this.gone(ruleArn, 'DescribeRules', error);
      throw classifyAwsError(error, `DescribeRules ${ruleArn}`);
    }
  }

  /** Reads the rule back until it shows the weights written; ELBv2 reads can briefly lag a write. */
  private async verify(ruleArn: string, weights: Weights): Promise<void> {
    let seen: Weights | undefined;
    let failure: unknown;
    for (let attempt = 0; attempt < this.verifyAttempts; attempt += 1) {
      if (attempt > 0 && this.verifyDelayMs > 0) await sleep(this.verifyDelayMs);
      try {
        seen = await this.readWeights(ruleArn);
        failure = undefined;
      } catch (error) {
        // A throttled read-back says nothing about the write: try again, and let the ASL retry if it persists.
        if (!(error instanceof TransientFailure)) throw error;
        failure = error;
        continue;
      }
      if (seen && sameWeights(seen, weights)) return;
    }
    if (failure) throw failure;
    const read = seen
      ? `source ${seen.source} / target ${seen.target}`
      : 'an action that is no longer one forward to the source and target group';
    throw new WeightsNotApplied(
      `wrote source ${weights.source} / target ${weights.target} to Swing's rule ${ruleArn} but read back ` +
        `${read} after ${this.verifyAttempts} reads: another writer may have changed the rule; check it with ` +
        'describe-rules, then retry',
    );
  }
}

/** A freeze rule's action: ELBv2 answers itself (no header can be set: FixedResponseActionConfig has none). */
function fixedResponseAction(response: FixedResponse): Action {
  return {
    Type: 'fixed-response',
    FixedResponseConfig: {
      StatusCode: response.statusCode,
      ContentType: response.contentType,
      MessageBody: response.messageBody,
    },
  };
}

/** What a rule answers when its one action is a fixed-response; undefined otherwise. */
function fixedResponseOf(rule: Rule): FixedResponse | undefined {
  const actions: readonly Action[] = rule.Actions ?? [];
  const only = actions[0];
  const config = only?.FixedResponseConfig;
  if (actions.length !== 1 || only?.Type !== 'fixed-response' || !config?.StatusCode) return undefined;
  const contentType = config.ContentType === 'text/plain' ? 'text/plain' : 'application/json';
  return { statusCode: config.StatusCode, contentType, messageBody: config.MessageBody ?? '' };
}
