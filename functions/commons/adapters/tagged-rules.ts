import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  type ElasticLoadBalancingV2Client,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { listenerNotFound } from '#adapters/listener.ts';
import { classifyAwsError, TransientFailure } from '#domain/errors.ts';

/** DescribeTags takes at most this many resource ARNs per call. */
const MAX_ARNS_PER_DESCRIBE_TAGS = 20;

/** Reads of rules and tags made before giving up when rules keep vanishing between the two calls. */
const TAGGED_READ_ATTEMPTS = 3;

/** A listener rule with its tags (empty when it has none). */
export interface TaggedRule {
  readonly rule: Rule;
  readonly tags: Readonly<Record<string, string>>;
}

const isNamed = (error: unknown, name: string) => error instanceof Error && error.name === name;

async function describeRules(client: ElasticLoadBalancingV2Client, listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  do {
    try {
      const page = await client.send(
        new DescribeRulesCommand({ ListenerArn: listenerArn, ...(marker ? { Marker: marker } : {}) }),
      );
      rules.push(...(page.Rules ?? []));
      marker = page.NextMarker;
    } catch (error) {
      if (isNamed(error, 'ListenerNotFoundException')) throw listenerNotFound(listenerArn, error);
      throw classifyAwsError(error, `DescribeRules ${listenerArn}`);
    }
  } while (marker);
  return rules.filter((rule) => !rule.IsDefault);
}

async function describeTags(
  client: ElasticLoadBalancingV2Client,
  arns: readonly string[],
): Promise<Map<string, Record<string, string>>> {
  const tags = new Map<string, Record<string, string>>();
  for (let start = 0; start < arns.length; start += MAX_ARNS_PER_DESCRIBE_TAGS) {
    const chunk = arns.slice(start, start + MAX_ARNS_PER_DESCRIBE_TAGS);
    const response = await client.send(new DescribeTagsCommand({ ResourceArns: chunk }));
    for (const description of response?.TagDescriptions ?? []) {
      tags.set(
        description.ResourceArn ?? '',
        Object.fromEntries((description.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
      );
    }
  }
  return tags;
}

/**
 * The listener's rules other than its default rule, each with its tags: every page of DescribeRules, then
 * DescribeTags for their ARNs. A rule deleted between the two calls (the reconciler, or another rollout cleaning
 * up) makes DescribeTags fail with RuleNotFound: the whole read starts again, a few times, then the ASL retries.
 */
export async function describeTaggedRules(
  client: ElasticLoadBalancingV2Client,
  listenerArn: string,
): Promise<TaggedRule[]> {
  let vanished: unknown;
  for (let attempt = 0; attempt < TAGGED_READ_ATTEMPTS; attempt += 1) {
    const rules = await describeRules(client, listenerArn);
    const arns = rules.flatMap((rule) => (rule.RuleArn ? [rule.RuleArn] : []));
    let tags: Map<string, Record<string, string>>;
    try {
      tags = arns.length === 0 ? new Map() : await describeTags(client, arns);
    } catch (error) {
      if (isNamed(error, 'RuleNotFoundException')) {
        vanished = error;
        continue;
      }
      throw classifyAwsError(error, `DescribeTags for the rules of ${listenerArn}`);
    }
    return rules.map((rule) => ({ rule, tags: tags.get(rule.RuleArn ?? '') ?? {} }));
  }
  throw new TransientFailure(
    `the rules of listener ${listenerArn} changed while they were read ${TAGGED_READ_ATTEMPTS} times ` +
      '(a rule was deleted between DescribeRules and DescribeTags): read them again',
    { cause: vanished },
  );
}
