import type {
  Action,
  ElasticLoadBalancingV2Client,
  Rule,
  RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { forwardedGroups, OMITTED_WEIGHT } from '#adapters/listener.ts';
import { describeTaggedRules } from '#adapters/tagged-rules.ts';
import type { DescribedListenerRule, ListenerRulesPort, ListenerTarget, RuleMatcher } from '#domain/types.ts';

/** A rule condition in words, e.g. `path-pattern /admin/*` or `http-header X-Canary: 1, yes`. */
export function conditionText(condition: RuleCondition): string {
  const field = condition.Field ?? 'condition';
  const list = (values: readonly string[] | undefined, regex?: readonly string[]) =>
    [...(values ?? []), ...(regex ?? []).map((pattern) => `regex ${pattern}`)].join(', ');
  switch (field) {
    case 'path-pattern':
      return `${field} ${list(condition.PathPatternConfig?.Values ?? condition.Values, condition.PathPatternConfig?.RegexValues)}`;
    case 'host-header':
      return `${field} ${list(condition.HostHeaderConfig?.Values ?? condition.Values, condition.HostHeaderConfig?.RegexValues)}`;
    case 'http-header': {
      const header = condition.HttpHeaderConfig;
      return `${field} ${header?.HttpHeaderName ?? ''}: ${list(header?.Values, header?.RegexValues)}`;
    }
    case 'http-request-method':
      return `${field} ${list(condition.HttpRequestMethodConfig?.Values)}`;
    case 'query-string':
      return `${field} ${(condition.QueryStringConfig?.Values ?? [])
        .map((pair) => (pair.Key ? `${pair.Key}=${pair.Value ?? ''}` : (pair.Value ?? '')))
        .join(', ')}`;
    case 'source-ip':
      return `${field} ${list(condition.SourceIpConfig?.Values)}`;
    default:
      return `${field} ${list(condition.Values)}`;
  }
}

/** A condition in ELBv2's terms, from its `*Config` or the legacy `Values`. */
export function ruleMatcher(condition: RuleCondition): RuleMatcher {
  const field = condition.Field ?? 'condition';
  const config =
    field === 'path-pattern'
      ? condition.PathPatternConfig
      : field === 'host-header'
        ? condition.HostHeaderConfig
        : field === 'http-header'
          ? condition.HttpHeaderConfig
          : undefined;
  const values =
    field === 'http-request-method'
      ? condition.HttpRequestMethodConfig?.Values
      : field === 'source-ip'
        ? condition.SourceIpConfig?.Values
        : field === 'query-string'
          ? (condition.QueryStringConfig?.Values ?? []).map((pair) =>
              pair.Key === undefined ? (pair.Value ?? '') : `${pair.Key}=${pair.Value ?? ''}`,
            )
          : (config?.Values ?? condition.Values);
  const regexValues = config?.RegexValues ?? [];
  return {
    field,
    values: values ?? condition.Values ?? [],
    ...(regexValues.length > 0 ? { regexValues } : {}),
    ...(condition.HttpHeaderConfig?.HttpHeaderName
      ? { headerName: condition.HttpHeaderConfig.HttpHeaderName }
      : {}),
  };
}

/** An action in words: where a rule sends what it matches, or what it answers. */
function actionText(action: Action): string {
  switch (action.Type) {
    case 'forward': {
      const groups = forwardedGroups(action);
      if (groups.length === 1) return `forward to ${groups[0]?.arn}`;
      return `forward to ${groups.map((group) => `${group.arn} weight ${group.weight ?? OMITTED_WEIGHT}`).join(', ')}`;
    }
    case 'fixed-response':
      return `fixed-response ${action.FixedResponseConfig?.StatusCode ?? ''}`.trim();
    case 'redirect': {
      const redirect = action.RedirectConfig;
      const to =
        `${redirect?.Protocol ?? '#{protocol}'}://${redirect?.Host ?? '#{host}'}:${redirect?.Port ?? '#{port}'}` +
        `${redirect?.Path ?? '/#{path}'}?${redirect?.Query ?? '#{query}'}`;
      return `redirect ${redirect?.StatusCode ?? ''} to ${to}`;
    }
    default:
      return action.Type ?? 'unknown action';
  }
}

/**
 * The weighted listener's other rules, read by the listener's exact ARN, with their tags: the `swing:owner`
 * tag tells Swing's own rules (reads-first mode) from everyone else's (`isSwingOwnRule`).
 */
export class AlbListenerRules implements ListenerRulesPort {
  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly target: ListenerTarget,
  ) {}

  /** The rules in priority order, without the default rule (the listener's default action, read elsewhere). */
  async readRules(): Promise<DescribedListenerRule[]> {
    const tagged = await describeTaggedRules(this.client, this.target.listenerArn);
    return tagged
      .sort((a, b) => Number(a.rule.Priority) - Number(b.rule.Priority))
      .map(({ rule, tags }) => ({ ...this.described(rule), tags }));
  }

  private described(rule: Rule): DescribedListenerRule {
    const { sourceTargetGroupArn: source, targetTargetGroupArn: target } = this.target;
    const actions = [...(rule.Actions ?? [])].sort(
      (a, b) => (a.Order ?? Number.MAX_SAFE_INTEGER) - (b.Order ?? Number.MAX_SAFE_INTEGER),
    );
    const forwarded = actions.flatMap((action) =>
      action.Type === 'forward'
        ? forwardedGroups(action)
            // A group weighted 0 gets none of what the rule matches.
            .filter((group) => (group.weight ?? OMITTED_WEIGHT) > 0)
            .map((group) => group.arn)
        : [],
    );
    return {
      arn: rule.RuleArn ?? '',
      priority: rule.Priority ?? '',
      conditions: (rule.Conditions ?? []).map(conditionText),
      matchers: (rule.Conditions ?? []).map(ruleMatcher),
      action: actions.map(actionText).join(', then ') || 'no action',
      swungGroups: [
        ...(forwarded.includes(source) ? (['source'] as const) : []),
        ...(forwarded.includes(target) ? (['target'] as const) : []),
      ],
    };
  }
}
