import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  type ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  PriorityInUseException,
  RuleNotFoundException,
  SetRulePrioritiesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { localElbV2Client } from '#local/local-elbv2.ts';
import { LocalListenerRules } from '#local/local-listener-rules.ts';

// Nothing listens at these URLs: these tests change and read rules, they send no traffic.
const UNUSED_UPSTREAM = 'http://127.0.0.1:9';

/** The error a call rejects with. */
async function rejection(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('Local ELBv2 client over the local ALB', () => {
  let alb: LocalAlb;
  let client: ElasticLoadBalancingV2Client;
  const forwardTo = (group: 'source' | 'target') => [
    { Type: 'forward' as const, TargetGroupArn: alb.targetGroupArns[group] },
  ];

  beforeAll(async () => {
    alb = await startLocalAlb({ portBase: 0, sourceUrl: UNUSED_UPSTREAM, targetUrl: UNUSED_UPSTREAM });
    client = localElbV2Client(alb);
  });
  afterAll(() => alb.close());
  afterEach(() => {
    for (const rule of alb.describeRules()) if (!rule.IsDefault) alb.deleteRule(rule.RuleArn!);
  });

  it('creates, describes, tags, modifies, reprioritizes and deletes rules through the SDK commands', async () => {
    const created = await client.send(
      new CreateRuleCommand({
        ListenerArn: alb.listenerArn,
        Priority: 10,
        Conditions: [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } }],
        Actions: forwardTo('source'),
        Tags: [{ Key: 'swing:owner', Value: 'exec-1' }],
      }),
    );
    const arn = created.Rules?.[0]?.RuleArn ?? '';

    expect(created.Rules?.[0]).toMatchObject({ Priority: '10', IsDefault: false });
    expect(alb.describeRules()[0]?.RuleArn).toBe(arn);

    await client.send(new ModifyRuleCommand({ RuleArn: arn, Actions: forwardTo('target') }));
    await client.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: arn, Priority: 7 }] }));
    const [described] = (await client.send(new DescribeRulesCommand({ RuleArns: [arn] }))).Rules ?? [];
    const tags = await client.send(new DescribeTagsCommand({ ResourceArns: [arn] }));

    expect(described).toMatchObject({
      Priority: '7',
      Actions: [{ TargetGroupArn: alb.targetGroupArns.target }],
    });
    expect(described).not.toHaveProperty('Tags');
    expect(tags.TagDescriptions).toEqual([
      { ResourceArn: arn, Tags: [{ Key: 'swing:owner', Value: 'exec-1' }] },
    ]);

    await client.send(new DeleteRuleCommand({ RuleArn: arn }));
    expect(alb.describeRules()).toHaveLength(1);
  });

  it("refuses with the SDK's own exceptions, so adapters catch them as they catch ELBv2's", async () => {
    const input = {
      ListenerArn: alb.listenerArn,
      Priority: 3,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/a'] } }],
      Actions: forwardTo('source'),
    };
    await client.send(new CreateRuleCommand(input));

    const taken = await rejection(client.send(new CreateRuleCommand(input)));
    const gone = await rejection(client.send(new DeleteRuleCommand({ RuleArn: `${alb.listenerArn}-nope` })));
    const invalid = await rejection(client.send(new CreateRuleCommand({ ...input, Priority: 0 })));
    const elsewhere = await rejection(
      client.send(new CreateRuleCommand({ ...input, ListenerArn: `${alb.listenerArn}0`, Priority: 4 })),
    );

    expect(taken).toBeInstanceOf(PriorityInUseException);
    expect(taken.name).toBe('PriorityInUseException');
    expect(gone).toBeInstanceOf(RuleNotFoundException);
    expect(invalid).toMatchObject({ name: 'ValidationError', $fault: 'client' });
    expect(elsewhere.name).toBe('ListenerNotFoundException');
    expect(alb.describeRules()).toHaveLength(2);
  });

  it('pages DescribeRules by PageSize and Marker, the default rule on the last page', async () => {
    for (let priority = 1; priority <= 5; priority += 1) {
      alb.createRule({
        priority,
        conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [`/${priority}`] } }],
        actions: forwardTo('source'),
      });
    }
    const priorities: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new DescribeRulesCommand({
          ListenerArn: alb.listenerArn,
          PageSize: 2,
          ...(marker ? { Marker: marker } : {}),
        }),
      );
      priorities.push(...(page.Rules ?? []).map((rule) => rule.Priority ?? ''));
      marker = page.NextMarker;
      pages += 1;
    } while (marker);

    expect(pages).toBe(3);
    expect(priorities).toEqual(['1', '2', '3', '4', '5', 'default']);
  });

  it('says which command it does not answer instead of calling AWS', async () => {
    expect(
      (await rejection(client.send(new DescribeListenersCommand({ ListenerArns: [alb.listenerArn] }))))
        .message,
    ).toMatch(/does not answer DescribeListenersCommand/);
  });
});

describe('Local listener rules port', () => {
  let alb: LocalAlb;

  beforeAll(async () => {
    alb = await startLocalAlb({ portBase: 0, sourceUrl: UNUSED_UPSTREAM, targetUrl: UNUSED_UPSTREAM });
  });
  afterAll(() => alb.close());

  it("reads the local listener's rules, without the default rule, in priority order, with their tags", async () => {
    alb.createRule({
      priority: 30,
      conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/_plugins/*'] } }],
      actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403' } }],
    });
    alb.createRule({
      priority: 2,
      conditions: [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'HEAD'] } }],
      actions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: alb.targetGroupArns.source, Weight: 950 },
              { TargetGroupArn: alb.targetGroupArns.target, Weight: 49 },
            ],
          },
        },
      ],
      tags: [
        { Key: 'swing:owner', Value: 'arn:aws:states:us-east-1:000000000000:execution:swing:run-1' },
        { Key: 'swing:rule', Value: 'reads-get-head' },
      ],
    });

    const rules = await new LocalListenerRules(alb).readRules();

    expect(rules).toMatchObject([
      {
        priority: '2',
        conditions: ['http-request-method GET, HEAD'],
        swungGroups: ['source', 'target'],
        tags: {
          'swing:owner': 'arn:aws:states:us-east-1:000000000000:execution:swing:run-1',
          'swing:rule': 'reads-get-head',
        },
      },
      { priority: '30', action: 'fixed-response 403', swungGroups: [], tags: {} },
    ]);
  });
});
