import { ListenerShapeInvalid } from './errors.ts';
import type { DescribedListenerRule, ListenerRule } from './types.ts';

/**
 * The tag key on the listener rules Swing creates itself (reads-first mode tags its rules with it). Those rules
 * are part of the swing; every other rule is someone else's.
 */
export const SWING_OWNER_TAG = 'swing:owner';

/** The tag key naming which rule of Swing's rule set a rule is (`SwingRuleSpec.name`). */
export const SWING_RULE_TAG = 'swing:rule';

/** Rules kept in the record per rollout: the record is one DynamoDB item, history included. */
export const MAX_RECORDED_RULES = 10;

/** Swing's own rules carry its owner tag, set when the rule is created (one call: never untagged). */
export function isSwingOwnRule(rule: DescribedListenerRule): boolean {
  return rule.tags?.[SWING_OWNER_TAG] !== undefined;
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** What a rule is, in one line: its ARN, priority and conditions. */
export function ruleText(rule: ListenerRule): string {
  const conditions = rule.conditions.length > 0 ? `, ${rule.conditions.join(' and ')}` : '';
  return `rule ${rule.arn} (priority ${rule.priority}${conditions})`;
}

export interface RulesOutsideTheSwing {
  /** The rules to record, at most MAX_RECORDED_RULES, each field clipped. */
  readonly recorded: readonly ListenerRule[];
  readonly count: number;
}

/**
 * Judges the listener's rules before a rollout takes the lock. A rule that is not Swing's own and forwards to
 * the source or target group takes requests that the weights never move, yet the rollout would report them
 * completed: refused, naming each such rule. Rules that answer themselves or send traffic elsewhere are
 * returned: their traffic is not swung either, which the record and `swing status` say.
 */
export function rulesOutsideTheSwing(
  listenerArn: string,
  rules: readonly DescribedListenerRule[],
): RulesOutsideTheSwing {
  const others = rules.filter((rule) => !isSwingOwnRule(rule));
  const bypassing = others.filter((rule) => rule.swungGroups.length > 0);
  if (bypassing.length > 0) {
    const named = bypassing.map(
      (rule) =>
        `${ruleText(rule)} sends to the ${rule.swungGroups.join(' and ')} target group: ${rule.action}`,
    );
    throw new ListenerShapeInvalid(
      `listener ${listenerArn} has rules that are not Swing's and forward to the source or target target ` +
        `group, so the requests they match would not follow the weights Swing sets: ${named.join('; ')}. ` +
        'Remove those rules or point them at other target groups (aws elbv2 delete-rule / modify-rule), ' +
        'then start again',
    );
  }
  const recorded = others.slice(0, MAX_RECORDED_RULES).map((rule) => ({
    arn: rule.arn,
    priority: rule.priority,
    conditions: rule.conditions.map((condition) => clip(condition, 200)),
    action: clip(rule.action, 300),
  }));
  return { recorded, count: others.length };
}
