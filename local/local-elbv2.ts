import {
  type CreateRuleCommandInput,
  type DeleteRuleCommandInput,
  type DescribeRulesCommandInput,
  type DescribeTagsCommandInput,
  DuplicateTagKeysException,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ListenerNotFoundException,
  type ModifyRuleCommandInput,
  OperationNotPermittedException,
  PriorityInUseException,
  type Rule,
  RuleNotFoundException,
  type SetRulePrioritiesCommandInput,
  TargetGroupNotFoundException,
  TooManyRulesException,
  TooManyTagsException,
  TooManyTargetGroupsException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DescribedRule, LocalAlb } from './alb.ts';
import { ElbV2Error, type ElbV2ErrorName } from './alb-rules.ts';

type ExceptionClass = new (options: { message: string; $metadata: object }) => Error;

const EXCEPTIONS: Partial<Record<ElbV2ErrorName, ExceptionClass>> = {
  PriorityInUseException,
  TooManyRulesException,
  RuleNotFoundException,
  OperationNotPermittedException,
  TargetGroupNotFoundException,
  TooManyTargetGroupsException,
  TooManyTagsException,
  DuplicateTagKeysException,
  ListenerNotFoundException,
};

/** The SDK's own exception for an ELBv2 refusal: what a caller of the real API catches, `instanceof` included. */
function sdkException(error: ElbV2Error): Error {
  const Exception = EXCEPTIONS[error.name];
  if (Exception) return new Exception({ message: error.message, $metadata: {} });
  // ValidationError has no class of its own in the SDK: it arrives as the service's base exception, so named.
  return new ElasticLoadBalancingV2ServiceException({
    name: error.name,
    $fault: 'client',
    $metadata: {},
    message: error.message,
  });
}

const withoutTags = ({ Tags: _tags, ...rule }: DescribedRule): Rule => rule;

/**
 * The ELBv2 API of the local ALB: a real `ElasticLoadBalancingV2Client` whose rule commands (DescribeRules,
 * DescribeTags, CreateRule, ModifyRule, DeleteRule, SetRulePriorities) are answered in-process by the stand-in's
 * rules table, in ELBv2's shapes and with the SDK's exceptions. So the adapters Swing runs in AWS run unchanged
 * in the local mode, against rules that really route the local traffic. No request leaves the process: the
 * answer is given before the SDK serializes, resolves an endpoint or signs anything.
 */
export function localElbV2Client(alb: LocalAlb): ElasticLoadBalancingV2Client {
  const client = new ElasticLoadBalancingV2Client({
    region: 'us-east-1',
    // Never used (nothing is signed), but given so that no credential chain is ever searched.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const listenerNamed = (arn: string | undefined) => {
    if (arn !== alb.listenerArn) {
      throw new ElbV2Error('ListenerNotFoundException', `One or more listeners not found: ${arn ?? ''}`);
    }
  };
  const rulesNamed = (arns: readonly string[]) => {
    const rules = alb.describeRules();
    return arns.map((arn) => {
      const rule = rules.find((candidate) => candidate.RuleArn === arn);
      if (!rule) throw new ElbV2Error('RuleNotFoundException', `One or more rules not found: ${arn}`);
      return rule;
    });
  };
  const answers: Record<string, (input: never) => object> = {
    DescribeRulesCommand: (input: DescribeRulesCommandInput) => {
      let rules: DescribedRule[];
      if (input.RuleArns) rules = rulesNamed(input.RuleArns);
      else {
        listenerNamed(input.ListenerArn);
        rules = alb.describeRules();
      }
      const start = Number(input.Marker ?? 0);
      const end = input.PageSize ? start + input.PageSize : rules.length;
      return {
        Rules: rules.slice(start, end).map(withoutTags),
        ...(end < rules.length ? { NextMarker: String(end) } : {}),
      };
    },
    DescribeTagsCommand: (input: DescribeTagsCommandInput) => {
      const arns = input.ResourceArns ?? [];
      const ruleArns = arns.filter((arn) => arn.includes(':listener-rule/'));
      const tags = new Map(rulesNamed(ruleArns).map((rule) => [rule.RuleArn, rule.Tags]));
      return { TagDescriptions: arns.map((arn) => ({ ResourceArn: arn, Tags: tags.get(arn) ?? [] })) };
    },
    CreateRuleCommand: (input: CreateRuleCommandInput) => {
      listenerNamed(input.ListenerArn);
      const arn = alb.createRule({
        priority: input.Priority ?? Number.NaN,
        conditions: input.Conditions ?? [],
        actions: input.Actions ?? [],
        ...(input.Tags ? { tags: input.Tags } : {}),
      });
      return { Rules: rulesNamed([arn]).map(withoutTags) };
    },
    ModifyRuleCommand: (input: ModifyRuleCommandInput) => {
      const rule = alb.modifyRule(input.RuleArn ?? '', {
        ...(input.Conditions ? { conditions: input.Conditions } : {}),
        ...(input.Actions ? { actions: input.Actions } : {}),
      });
      return { Rules: [withoutTags(rule)] };
    },
    DeleteRuleCommand: (input: DeleteRuleCommandInput) => {
      alb.deleteRule(input.RuleArn ?? '');
      return {};
    },
    SetRulePrioritiesCommand: (input: SetRulePrioritiesCommandInput) => {
      const pairs = input.RulePriorities ?? [];
      alb.setRulePriorities(pairs);
      return { Rules: rulesNamed(pairs.map((pair) => pair.RuleArn ?? '')).map(withoutTags) };
    },
  };
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const answer = answers[context.commandName ?? ''];
      if (!answer) {
        throw new Error(
          `the local ALB does not answer ${context.commandName ?? 'this command'}: it serves listener rules only`,
        );
      }
      try {
        const output = answer(args.input as never);
        return { output: { $metadata: {}, ...structuredClone(output) }, response: {} } as never;
      } catch (error) {
        throw error instanceof ElbV2Error ? sdkException(error) : error;
      }
    },
    { step: 'initialize', priority: 'high', name: 'localAlbRules' },
  );
  return client;
}
