import { AlbListenerRules } from '#adapters/listener-rules.ts';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import type {
  DescribedListenerRule,
  ListenerRulesPort,
  ListenerTarget,
  SwingRulesPort,
} from '#domain/types.ts';
import type { LocalAlb } from './alb.ts';
import { localElbV2Client } from './local-elbv2.ts';

/** The weighted listener and its two target groups, as the local ALB names them. */
export function localListenerTarget(alb: Pick<LocalAlb, 'listenerArn' | 'targetGroupArns'>): ListenerTarget {
  return {
    listenerArn: alb.listenerArn,
    sourceTargetGroupArn: alb.targetGroupArns.source,
    targetTargetGroupArn: alb.targetGroupArns.target,
  };
}

/**
 * The ListenerRulesPort over the local ALB: the ELBv2 adapter itself (DescribeRules, every page), answered by the
 * stand-in's rules table, with each rule's tags, so Preflight judges the local listener's rules as it judges an
 * ALB's, Swing's own (tagged `swing:owner`) told apart from others.
 */
export class LocalListenerRules implements ListenerRulesPort {
  private readonly rules: AlbListenerRules;

  constructor(private readonly alb: LocalAlb) {
    this.rules = new AlbListenerRules(localElbV2Client(alb), localListenerTarget(alb));
  }

  async readRules(): Promise<DescribedListenerRule[]> {
    const rules = await this.rules.readRules();
    const tags = new Map(
      this.alb
        .describeRules()
        .map((rule) => [
          rule.RuleArn,
          Object.fromEntries(rule.Tags.map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
        ]),
    );
    // The adapter may read tags itself one day; what it read wins.
    return rules.map((rule) => ({ ...rule, tags: rule.tags ?? tags.get(rule.arn) ?? {} }));
  }
}

/**
 * The SwingRulesPort over the local ALB: the ELBv2 adapter itself, so the contract is AWS's by construction
 * (tags `swing:owner` and `swing:rule` on create, a lost CreateRule answer found by its tags, weights read back
 * after ModifyRule, a rule already gone deleted without complaint), and the rules it writes route the local
 * traffic. The stand-in's reads never lag its writes, so the read-back needs no pause.
 */
export function localSwingRules(alb: LocalAlb): SwingRulesPort {
  return new AlbSwingRules(localElbV2Client(alb), localListenerTarget(alb), { verifyDelayMs: 0 });
}
