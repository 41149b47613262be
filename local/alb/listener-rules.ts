import type { IncomingMessage } from 'node:http';
import type {
  Action,
  Rule,
  RuleCondition,
  RulePriorityPair,
  Tag,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Weights } from '#domain/types.ts';
import {
  compileConditions,
  describedActions,
  describedConditions,
  ElbV2Error,
  firstMatchingRule,
  forwardTargets,
  type MatchableRule,
  parseRequest,
  RULE_LIMITS,
  validateActions,
  validateConditions,
  validatePriority,
  validateTags,
} from '../alb-rules.ts';
import type { Group } from './metrics.ts';

/** CreateRule's input, in ELBv2's shapes. */
export interface RuleInput {
  /** 1..50000, unique on the listener; lower is evaluated first. */
  readonly priority: number;
  readonly conditions: readonly RuleCondition[];
  /** One `forward` (to the stand-in's target groups, weighted or not) or one `fixed-response`. */
  readonly actions: readonly Action[];
  readonly tags?: readonly Tag[];
}

/** ModifyRule's input: what is given replaces the rule's; what is not stays. */
export interface RuleChange {
  readonly conditions?: readonly RuleCondition[];
  readonly actions?: readonly Action[];
}

/** A rule as DescribeRules returns it, with its tags (DescribeTags) beside. */
export interface DescribedRule extends Rule {
  readonly Tags: Tag[];
}

export interface StoredRule extends MatchableRule {
  readonly arn: string;
  readonly conditions: readonly RuleCondition[];
  readonly actions: readonly Action[];
  readonly tags: readonly Tag[];
  /** The forward's weights per group, or the fixed response. */
  readonly route:
    | { readonly weights: Weights }
    | { readonly fixed: NonNullable<Action['FixedResponseConfig']> };
}

/**
 * The weighted listener's rules and their evaluation. Each change is one synchronous, atomic change as ELBv2's
 * are: checked whole first (throwing `ElbV2Error` named as ELBv2's), then applied for the next request.
 */
export class ListenerRules {
  // Replaced whole on each change (never mutated), in priority order: a request sees one consistent table.
  private rules: readonly StoredRule[] = [];
  private nextRuleId = 1;
  private readonly ruleArnPrefix: string;
  private readonly defaultRuleArn: string;
  private readonly knownTargetGroups: ReadonlySet<string>;

  constructor(
    listenerArn: string,
    private readonly targetGroupArns: Readonly<Record<Group, string>>,
    /** The default action's weights, as DescribeRules shows them. */
    private readonly defaultWeights: () => Weights,
  ) {
    this.ruleArnPrefix = `${listenerArn.replace(':listener/', ':listener-rule/')}/`;
    this.defaultRuleArn = `${this.ruleArnPrefix}default`;
    this.knownTargetGroups = new Set(Object.values(targetGroupArns));
  }

  /** The first rule, in priority order, whose conditions this request meets; undefined: the default action. */
  match(request: IncomingMessage): StoredRule | undefined {
    const table = this.rules;
    return table.length === 0
      ? undefined
      : firstMatchingRule(
          table,
          parseRequest({
            method: request.method ?? 'GET',
            url: request.url ?? '/',
            headers: request.headersDistinct,
            ...(request.socket.remoteAddress ? { sourceIp: request.socket.remoteAddress } : {}),
          }),
        );
  }

  create(input: RuleInput): string {
    const priority = validatePriority(input.priority);
    const conditions = validateConditions(input.conditions);
    const actions = validateActions(input.actions, this.knownTargetGroups);
    const tags = validateTags(input.tags);
    if (this.rules.some((rule) => rule.priority === priority)) {
      throw new ElbV2Error('PriorityInUseException', `Priority '${priority}' is currently in use`);
    }
    if (this.rules.length >= RULE_LIMITS.rules) {
      throw new ElbV2Error(
        'TooManyRulesException',
        `A load balancer can have at most ${RULE_LIMITS.rules} rules besides its default rule`,
      );
    }
    const arn = `${this.ruleArnPrefix}${(this.nextRuleId++).toString(16).padStart(16, '0')}`;
    this.rules = inPriorityOrder([...this.rules, this.stored(arn, priority, conditions, actions, tags)]);
    return arn;
  }

  modify(ruleArn: string, change: RuleChange): DescribedRule {
    const rule = this.named(ruleArn);
    const conditions = change.conditions ? validateConditions(change.conditions) : rule.conditions;
    const actions = change.actions ? validateActions(change.actions, this.knownTargetGroups) : rule.actions;
    const next = this.stored(rule.arn, rule.priority, conditions, actions, rule.tags);
    this.rules = this.rules.map((candidate) => (candidate.arn === ruleArn ? next : candidate));
    return described(next);
  }

  delete(ruleArn: string): void {
    this.named(ruleArn);
    this.rules = this.rules.filter((rule) => rule.arn !== ruleArn);
  }

  setPriorities(pairs: readonly RulePriorityPair[]): void {
    // All checked against the table as it will be, then applied at once: ELBv2 applies all or none.
    const next = new Map<string, number>();
    for (const pair of pairs) {
      const rule = this.named(pair.RuleArn ?? '');
      if (next.has(rule.arn)) {
        throw new ElbV2Error('ValidationError', `Rule '${rule.arn}' is given two priorities`);
      }
      next.set(rule.arn, validatePriority(pair.Priority ?? Number.NaN));
    }
    const after = this.rules.map((rule) => ({ rule, priority: next.get(rule.arn) ?? rule.priority }));
    const taken = new Set<number>();
    for (const { priority } of after) {
      if (taken.has(priority)) {
        throw new ElbV2Error('PriorityInUseException', `Priority '${priority}' is currently in use`);
      }
      taken.add(priority);
    }
    this.rules = inPriorityOrder(after.map(({ rule, priority }) => ({ ...rule, priority })));
  }

  /** Every rule in priority order, the default rule last (`IsDefault`, priority `default`), with tags. */
  describe(): DescribedRule[] {
    return [...this.rules.map(described), this.describedDefault()];
  }

  private stored(
    arn: string,
    priority: number,
    conditions: readonly RuleCondition[],
    actions: readonly Action[],
    tags: readonly Tag[],
  ): StoredRule {
    const action = actions[0]!;
    const { source, target } = this.targetGroupArns;
    const route: StoredRule['route'] =
      action.Type === 'fixed-response'
        ? { fixed: { ...action.FixedResponseConfig! } }
        : {
            weights: forwardTargets(action).reduce(
              (sum, { arn: group, weight }) => ({
                source: sum.source + (group === source ? weight : 0),
                target: sum.target + (group === target ? weight : 0),
              }),
              { source: 0, target: 0 },
            ),
          };
    return {
      arn,
      priority,
      // Copied: a caller changing its arrays afterwards must not reach into the table.
      conditions: structuredClone(conditions),
      actions: structuredClone(actions),
      tags: structuredClone(tags),
      matches: compileConditions(conditions),
      route,
    };
  }

  private named(ruleArn: string): StoredRule {
    if (ruleArn === this.defaultRuleArn) {
      throw new ElbV2Error(
        'OperationNotPermittedException',
        'The default rule cannot be changed with rule operations: set the weights (ModifyListener) instead',
      );
    }
    const rule = this.rules.find((candidate) => candidate.arn === ruleArn);
    if (!rule) throw new ElbV2Error('RuleNotFoundException', `One or more rules not found: ${ruleArn}`);
    return rule;
  }

  private describedDefault(): DescribedRule {
    const weights = this.defaultWeights();
    return {
      RuleArn: this.defaultRuleArn,
      Priority: 'default',
      Conditions: [],
      Actions: describedActions([
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: this.targetGroupArns.source, Weight: weights.source },
              { TargetGroupArn: this.targetGroupArns.target, Weight: weights.target },
            ],
          },
        },
      ]),
      IsDefault: true,
      Tags: [],
    };
  }
}

function inPriorityOrder(table: readonly StoredRule[]): StoredRule[] {
  return [...table].sort((a, b) => a.priority - b.priority);
}

function described(rule: StoredRule): DescribedRule {
  return {
    RuleArn: rule.arn,
    Priority: String(rule.priority),
    Conditions: describedConditions(rule.conditions),
    Actions: describedActions(rule.actions),
    IsDefault: false,
    Tags: structuredClone([...rule.tags]),
  };
}
