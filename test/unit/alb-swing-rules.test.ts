import {
  type Action,
  CreateRuleCommand,
  type CreateRuleCommandInput,
  DeleteRuleCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ModifyRuleCommand,
  PriorityInUseException,
  type Rule,
  RuleNotFoundException,
  type Tag,
  TooManyRulesException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { ListenerShapeInvalid, RuleGone, ValidationFailed } from '#domain/errors.ts';
import {
  isIntact,
  isSourceOnly,
  PIN_WEIGHTS,
  SWING_PRIORITY_SPAN,
  SWING_RULE_SET,
} from '#domain/swing-rules.ts';
import type { ListenerTarget } from '#domain/types.ts';

const ACCOUNT = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
const TARGET: ListenerTarget = {
  listenerArn: `${ACCOUNT}:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`,
  sourceTargetGroupArn: `${ACCOUNT}:targetgroup/capture-proxy/73e2d6bc24d8a067`,
  targetTargetGroupArn: `${ACCOUNT}:targetgroup/target-proxy/09e2d6bc24d8a0aa`,
};
const SOURCE = TARGET.sourceTargetGroupArn;
const TARGET_GROUP = TARGET.targetTargetGroupArn;
const STRANGER = `${ACCOUNT}:targetgroup/someone-else/5a5a5a5a5a5a5a5a`;
const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:swing-rollout:run-1';
const BASE = 100;
const NO_WAIT = { verifyAttempts: 3, verifyDelayMs: 0 };

const elb = mockClient(ElasticLoadBalancingV2Client);
const client = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });

const ruleArn = (id: string) =>
  `${ACCOUNT}:listener-rule/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/${id}`;
const spec = (name: string) => SWING_RULE_SET.find((candidate) => candidate.name === name)!;

function weightedForward(source: number, target: number): Action {
  return {
    Type: 'forward',
    Order: 1,
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: SOURCE, Weight: source },
        { TargetGroupArn: TARGET_GROUP, Weight: target },
      ],
      TargetGroupStickinessConfig: { Enabled: false },
    },
  };
}

const swingTags = (name: string, owner = OWNER): Tag[] => [
  { Key: 'swing:owner', Value: owner },
  { Key: 'swing:rule', Value: name },
];

/** A rule as DescribeRules returns it, with the tags DescribeTags returns for it. */
interface Described {
  readonly rule: Rule;
  readonly tags: Tag[];
}

function described(id: string, priority: number, rule: Partial<Rule>, tags: Tag[] = []): Described {
  return {
    rule: {
      RuleArn: ruleArn(id),
      Priority: String(priority),
      Conditions: [],
      Actions: [weightedForward(999, 0)],
      IsDefault: false,
      ...rule,
    },
    tags,
  };
}

/** Serves DescribeRules (in pages of `pageSize`, the default rule last) and DescribeTags for these rules. */
function serveListener(rules: readonly Described[], pageSize = 100): void {
  const all: Rule[] = [
    ...rules.map((entry) => entry.rule),
    { RuleArn: ruleArn('default'), Priority: 'default', Conditions: [], Actions: [], IsDefault: true },
  ];
  elb.on(DescribeRulesCommand).callsFake((input: { ListenerArn?: string; Marker?: string }) => {
    expect(input.ListenerArn).toBe(TARGET.listenerArn);
    const start = Number(input.Marker ?? 0);
    const next = start + pageSize;
    return { Rules: all.slice(start, next), ...(next < all.length ? { NextMarker: String(next) } : {}) };
  });
  elb.on(DescribeTagsCommand).callsFake((input: { ResourceArns?: string[] }) => ({
    TagDescriptions: (input.ResourceArns ?? []).map((arn) => ({
      ResourceArn: arn,
      Tags: rules.find((entry) => entry.rule.RuleArn === arn)?.tags ?? [],
    })),
  }));
}

function awsError(name: string, httpStatusCode: number, fault: 'client' | 'server'): Error {
  return new ElasticLoadBalancingV2ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode },
    message: `${name} from ELBv2`,
  });
}

const meta = { $metadata: { httpStatusCode: 400 } };

beforeEach(() => {
  elb.reset();
});

describe('Class: AlbSwingRules', () => {
  describe('Method: readSwingRules', () => {
    it('keeps only the rules tagged as Swing’s, over every page and every 20-rule tag batch, in priority order', async () => {
      // Prepare: 30 rules of someone else's around two of Swing's, read in pages of 7.
      const foreign = Array.from({ length: 30 }, (_, index) =>
        described(`f${String(index).padStart(15, '0')}`, 200 + index, {
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`app${index}.example.com`] } }],
          Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
        }),
      );
      const readsSearch = described(
        's000000000000002',
        BASE + 4,
        {
          Conditions: [
            { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST'] } },
            { Field: 'path-pattern', PathPatternConfig: { Values: ['*/_search*', '*/_msearch*'] } },
          ],
          Actions: [weightedForward(899, 100)],
        },
        swingTags('reads-search'),
      );
      const pin = described(
        's000000000000001',
        BASE,
        {
          Conditions: [
            {
              Field: 'path-pattern',
              PathPatternConfig: { Values: ['/_search/scroll*', '*/_pit*', '*/_search/point_in_time*'] },
            },
          ],
          Actions: [weightedForward(999, 0)],
        },
        swingTags('pin-scroll-pit'),
      );
      serveListener([...foreign.slice(0, 20), readsSearch, ...foreign.slice(20), pin], 7);

      // Act
      const found = await new AlbSwingRules(client, TARGET).readSwingRules();

      // Assess
      expect(found).toEqual([
        {
          arn: pin.rule.RuleArn,
          name: 'pin-scroll-pit',
          owner: OWNER,
          priority: BASE,
          conditions: [
            { field: 'path-pattern', values: ['/_search/scroll*', '*/_pit*', '*/_search/point_in_time*'] },
          ],
          weights: PIN_WEIGHTS,
        },
        {
          arn: readsSearch.rule.RuleArn,
          name: 'reads-search',
          owner: OWNER,
          priority: BASE + 4,
          conditions: [
            { field: 'http-request-method', values: ['POST'] },
            { field: 'path-pattern', values: ['*/_search*', '*/_msearch*'] },
          ],
          weights: { source: 899, target: 100 },
        },
      ]);
      expect(elb).toReceiveCommandTimes(DescribeRulesCommand, 5);
      const batches = elb
        .commandCalls(DescribeTagsCommand)
        .map((call) => call.args[0].input.ResourceArns ?? []);
      expect(batches.map((batch) => batch.length)).toEqual([20, 12]);
      expect(batches.flat()).not.toContain(ruleArn('default'));
    });

    it('reads the legacy Values field and query-string pairs with and without a key', async () => {
      serveListener([
        described(
          's000000000000003',
          BASE + 2,
          {
            Conditions: [
              {
                Field: 'query-string',
                QueryStringConfig: { Values: [{ Key: 'scroll', Value: '*' }, { Value: 'x' }] },
              },
              { Field: 'path-pattern', Values: ['/_search'] },
            ],
          },
          swingTags('pin-scroll-param'),
        ),
      ]);

      const [found] = await new AlbSwingRules(client, TARGET).readSwingRules();

      expect(found?.conditions).toEqual([
        { field: 'query-string', values: [{ key: 'scroll', value: '*' }, { value: 'x' }] },
        { field: 'path-pattern', values: ['/_search'] },
      ]);
    });

    it('reads a rule of Swing’s just as it created it as intact', async () => {
      // Prepare: what CreateRule was sent, answered back by DescribeRules the way ELBv2 lists it.
      const created: CreateRuleCommandInput[] = [];
      elb.on(CreateRuleCommand).callsFake((input: CreateRuleCommandInput) => {
        created.push(input);
        return { Rules: [{ RuleArn: ruleArn(`c${created.length}`) }] };
      });
      const rules = new AlbSwingRules(client, TARGET);
      for (const rule of SWING_RULE_SET) {
        await rules.createRule(
          rule,
          BASE + rule.offset,
          isSourceOnly(rule) ? PIN_WEIGHTS : { source: 949, target: 50 },
          OWNER,
        );
      }
      serveListener(
        created.map((input, index) =>
          described(
            `c${index + 1}`,
            input.Priority!,
            { Conditions: input.Conditions!, Actions: [{ ...input.Actions![0]!, Order: 1 }] },
            input.Tags!,
          ),
        ),
      );

      // Act
      const found = await rules.readSwingRules();

      // Assess
      expect(found.map((rule) => rule.name)).toEqual(SWING_RULE_SET.map((rule) => rule.name));
      for (const rule of found) expect({ [rule.name]: isIntact(rule, BASE) }).toEqual({ [rule.name]: true });
    });

    it('reads a condition Swing never makes as one that no spec equals, so the rule is not intact', async () => {
      const reshaped = (conditions: Rule['Conditions']) =>
        described('s000000000000004', BASE + 3, { Conditions: conditions }, swingTags('reads-get-head'));
      const rules = new AlbSwingRules(client, TARGET);

      // A host-header condition added by hand.
      serveListener([
        reshaped([
          { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'HEAD'] } },
          { Field: 'host-header', HostHeaderConfig: { Values: ['search.example.com'] } },
        ]),
      ]);
      const [withHost] = await rules.readSwingRules();
      expect(withHost?.conditions[1]).toEqual({
        field: 'http-request-method',
        values: ["not Swing's: host-header search.example.com"],
      });
      expect(isIntact(withHost!, BASE)).toBe(false);

      // The method condition swapped for an http-header one: same count, still not intact.
      elb.reset();
      serveListener([
        reshaped([{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Read', Values: ['1'] } }]),
      ]);
      const [swapped] = await rules.readSwingRules();
      expect(swapped?.conditions).toHaveLength(1);
      expect(isIntact(swapped!, BASE)).toBe(false);

      // A path pattern turned into a regex one.
      elb.reset();
      serveListener([
        described(
          's000000000000005',
          BASE + 1,
          { Conditions: [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/_search$'] } }] },
          swingTags('pin-indexless-search'),
        ),
      ]);
      const [regex] = await rules.readSwingRules();
      expect(isIntact(regex!, BASE)).toBe(false);
    });

    it.each<[string, Action[]]>([
      ['a fixed response', [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }]],
      ['a forward to one group', [{ Type: 'forward', TargetGroupArn: SOURCE }]],
      [
        'a forward to a group of someone else’s',
        [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: SOURCE, Weight: 1 },
                { TargetGroupArn: STRANGER, Weight: 1 },
              ],
            },
          },
        ],
      ],
      [
        'a forward to three groups',
        [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: SOURCE, Weight: 1 },
                { TargetGroupArn: TARGET_GROUP, Weight: 1 },
                { TargetGroupArn: STRANGER, Weight: 1 },
              ],
            },
          },
        ],
      ],
      [
        'an authenticate action before the forward',
        [
          {
            Type: 'authenticate-oidc',
            Order: 1,
            AuthenticateOidcConfig: {
              Issuer: 'https://idp.example.com',
              AuthorizationEndpoint: 'https://idp.example.com/auth',
              TokenEndpoint: 'https://idp.example.com/token',
              UserInfoEndpoint: 'https://idp.example.com/userinfo',
              ClientId: 'swing',
            },
          },
          { ...weightedForward(1, 1), Order: 2 },
        ],
      ],
    ])('reports no weights for a rule of Swing’s whose action became %s', async (_, actions) => {
      serveListener([
        described('s000000000000006', BASE + 3, { Actions: actions }, swingTags('reads-get-head')),
      ]);

      const [found] = await new AlbSwingRules(client, TARGET).readSwingRules();

      expect(found).toBeDefined();
      expect(found?.weights).toBeUndefined();
    });

    it('turns a throttled DescribeRules into TransientFailure', async () => {
      elb.on(DescribeRulesCommand).rejects(awsError('Throttling', 400, 'client'));

      await expect(new AlbSwingRules(client, TARGET).readSwingRules()).rejects.toMatchObject({
        name: 'TransientFailure',
      });
    });
  });

  describe('Method: createRule', () => {
    it('creates the rule with its conditions, a weighted forward without stickiness and both tags, in one call', async () => {
      elb.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: ruleArn('new') }] });

      const arn = await new AlbSwingRules(client, TARGET).createRule(
        spec('pin-scroll-param'),
        BASE + 2,
        PIN_WEIGHTS,
        OWNER,
      );

      expect(arn).toBe(ruleArn('new'));
      expect(elb).toReceiveCommandTimes(CreateRuleCommand, 1);
      expect(elb).toReceiveCommandWith(CreateRuleCommand, {
        ListenerArn: TARGET.listenerArn,
        Priority: BASE + 2,
        Conditions: [
          { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'scroll', Value: '*' }] } },
        ],
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: SOURCE, Weight: 999 },
                { TargetGroupArn: TARGET_GROUP, Weight: 0 },
              ],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
        Tags: [
          { Key: 'swing:owner', Value: OWNER },
          { Key: 'swing:rule', Value: 'pin-scroll-param' },
        ],
      });
    });

    it('sends method and path conditions in their config shapes', async () => {
      elb.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: ruleArn('new') }] });

      await new AlbSwingRules(client, TARGET).createRule(
        spec('reads-lookups'),
        BASE + 5,
        { source: 1, target: 1 },
        OWNER,
      );

      expect(elb.commandCalls(CreateRuleCommand)[0]?.args[0].input.Conditions).toEqual([
        { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['*/_count', '*/_mget', '*/_field_caps'] } },
      ]);
    });

    it('refuses a taken priority, naming it, the rule that holds it and the fix', async () => {
      elb.on(CreateRuleCommand).rejects(new PriorityInUseException({ ...meta, message: 'Priority in use' }));
      const holder = described('f000000000000001', BASE + 3, {}, [{ Key: 'team', Value: 'search' }]);
      serveListener([holder]);

      const refusal = new AlbSwingRules(client, TARGET).createRule(
        spec('reads-get-head'),
        BASE + 3,
        PIN_WEIGHTS,
        OWNER,
      );

      await expect(refusal).rejects.toBeInstanceOf(ListenerShapeInvalid);
      await expect(refusal).rejects.toThrow(
        new RegExp(
          `priority 103, which Swing's rule reads-get-head needs on listener .*, is taken by someone else's rule ` +
            `\\(${holder.rule.RuleArn}\\).*choose another rulePriority \\(a free range of ${SWING_PRIORITY_SPAN}\\)`,
        ),
      );
    });

    it('names another rollout’s rule of Swing’s as the holder of a taken priority', async () => {
      elb.on(CreateRuleCommand).rejects(new PriorityInUseException({ ...meta, message: 'Priority in use' }));
      serveListener([
        described('s000000000000007', BASE + 3, {}, swingTags('reads-get-head', 'execution-old')),
      ]);

      await expect(
        new AlbSwingRules(client, TARGET).createRule(spec('reads-get-head'), BASE + 3, PIN_WEIGHTS, OWNER),
      ).rejects.toThrow("taken by Swing's rule reads-get-head of execution-old");
    });

    it('returns the rule an earlier attempt created when its answer was lost, creating no second one', async () => {
      elb.on(CreateRuleCommand).rejects(new PriorityInUseException({ ...meta, message: 'Priority in use' }));
      const earlier = described('s000000000000008', BASE + 3, {}, swingTags('reads-get-head'));
      serveListener([earlier]);

      const arn = await new AlbSwingRules(client, TARGET).createRule(
        spec('reads-get-head'),
        BASE + 3,
        PIN_WEIGHTS,
        OWNER,
      );

      expect(arn).toBe(earlier.rule.RuleArn);
      expect(elb).toReceiveCommandTimes(CreateRuleCommand, 1);
    });

    it('calls a priority that was freed again in between a TransientFailure, to be retried', async () => {
      elb.on(CreateRuleCommand).rejects(new PriorityInUseException({ ...meta, message: 'Priority in use' }));
      serveListener([]);

      await expect(
        new AlbSwingRules(client, TARGET).createRule(spec('reads-get-head'), BASE + 3, PIN_WEIGHTS, OWNER),
      ).rejects.toMatchObject({ name: 'TransientFailure' });
    });

    it('refuses when the load balancer holds its quota of rules, naming the quota', async () => {
      elb.on(CreateRuleCommand).rejects(new TooManyRulesException({ ...meta, message: 'Too many rules' }));

      const refusal = new AlbSwingRules(client, TARGET).createRule(
        spec('reads-search'),
        BASE + 4,
        PIN_WEIGHTS,
        OWNER,
      );

      await expect(refusal).rejects.toBeInstanceOf(ListenerShapeInvalid);
      await expect(refusal).rejects.toThrow(/Rules per Application Load Balancer', 100 by default/);
    });

    it('turns a throttled CreateRule into TransientFailure', async () => {
      elb.on(CreateRuleCommand).rejects(awsError('Throttling', 400, 'client'));

      await expect(
        new AlbSwingRules(client, TARGET).createRule(spec('reads-search'), BASE + 4, PIN_WEIGHTS, OWNER),
      ).rejects.toMatchObject({ name: 'TransientFailure' });
    });

    it('refuses weights ALB would refuse, before any call', async () => {
      await expect(
        new AlbSwingRules(client, TARGET).createRule(
          spec('reads-search'),
          BASE + 4,
          { source: 0, target: 0 },
          OWNER,
        ),
      ).rejects.toBeInstanceOf(ValidationFailed);
      expect(elb).toReceiveCommandTimes(CreateRuleCommand, 0);
    });
  });

  describe('Method: setRuleWeights', () => {
    const arn = ruleArn('s000000000000009');
    const readBack = (...actions: Action[]) => ({
      Rules: [{ RuleArn: arn, Priority: '104', Actions: actions }],
    });

    it('sends only the new forward, leaving the conditions alone, then reads the rule back by its ARN', async () => {
      elb
        .on(ModifyRuleCommand)
        .resolves({})
        .on(DescribeRulesCommand)
        .resolves(readBack(weightedForward(899, 100)));

      await new AlbSwingRules(client, TARGET, NO_WAIT).setRuleWeights(arn, { source: 899, target: 100 });

      const sent = elb.commandCalls(ModifyRuleCommand)[0]?.args[0].input;
      expect(sent).toEqual({
        RuleArn: arn,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: SOURCE, Weight: 899 },
                { TargetGroupArn: TARGET_GROUP, Weight: 100 },
              ],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
      });
      expect(elb).toReceiveCommandWith(DescribeRulesCommand, { RuleArns: [arn] });
    });

    it('reads the rule back until the new weights show, then succeeds', async () => {
      elb
        .on(ModifyRuleCommand)
        .resolves({})
        .on(DescribeRulesCommand)
        .resolvesOnce(readBack(weightedForward(999, 0)))
        .resolves(readBack(weightedForward(899, 100)));

      await new AlbSwingRules(client, TARGET, NO_WAIT).setRuleWeights(arn, { source: 899, target: 100 });

      expect(elb).toReceiveCommandTimes(DescribeRulesCommand, 2);
    });

    it('reports WeightsNotApplied, with both pairs, when the read-back never shows the weights written', async () => {
      elb
        .on(ModifyRuleCommand)
        .resolves({})
        .on(DescribeRulesCommand)
        .resolves(readBack(weightedForward(500, 499)));

      await expect(
        new AlbSwingRules(client, TARGET, NO_WAIT).setRuleWeights(arn, { source: 899, target: 100 }),
      ).rejects.toMatchObject({
        name: 'WeightsNotApplied',
        message: expect.stringMatching(
          /wrote source 899 \/ target 100 .* read back source 500 \/ target 499 after 3 reads/,
        ),
      });
      expect(elb).toReceiveCommandTimes(DescribeRulesCommand, 3);
    });

    it('reports WeightsNotApplied when the rule read back is no longer a forward to the two groups', async () => {
      elb
        .on(ModifyRuleCommand)
        .resolves({})
        .on(DescribeRulesCommand)
        .resolves(readBack({ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }));

      await expect(
        new AlbSwingRules(client, TARGET, NO_WAIT).setRuleWeights(arn, { source: 899, target: 100 }),
      ).rejects.toMatchObject({
        name: 'WeightsNotApplied',
        message: expect.stringContaining('no longer one forward to the source and target group'),
      });
    });

    it('reports a rule deleted by someone as RuleGone, a ListenerShapeInvalid naming the rule', async () => {
      elb
        .on(ModifyRuleCommand)
        .rejects(new RuleNotFoundException({ ...meta, message: 'One or more rules not found' }));

      const failure = new AlbSwingRules(client, TARGET, NO_WAIT).setRuleWeights(arn, {
        source: 899,
        target: 100,
      });

      await expect(failure).rejects.toBeInstanceOf(RuleGone);
      await expect(failure).rejects.toMatchObject({
        name: 'ListenerShapeInvalid',
        ruleArn: arn,
        message: expect.stringContaining('someone deleted it'),
      });
      expect(elb).toReceiveCommandTimes(DescribeRulesCommand, 0);
    });

    it('reports RuleGone when the rule disappears between the write and its read-back', async () => {
      elb
        .on(ModifyRuleCommand)
        .resolves({})
        .on(DescribeRulesCommand)
        .rejects(new RuleNotFoundException({ ...meta, message: 'One or more rules not found' }));

      await expect(
        new AlbSwingRules(client, TARGET, NO_WAIT).setRuleWeights(arn, { source: 899, target: 100 }),
      ).rejects.toBeInstanceOf(RuleGone);
    });

    it('turns a throttled ModifyRule into TransientFailure and retries a throttled read-back', async () => {
      elb
        .on(ModifyRuleCommand)
        .rejectsOnce(awsError('Throttling', 400, 'client'))
        .resolves({});
      elb
        .on(DescribeRulesCommand)
        .rejectsOnce(awsError('Throttling', 400, 'client'))
        .resolves(readBack(weightedForward(899, 100)));
      const rules = new AlbSwingRules(client, TARGET, NO_WAIT);

      await expect(rules.setRuleWeights(arn, { source: 899, target: 100 })).rejects.toMatchObject({
        name: 'TransientFailure',
      });
      await rules.setRuleWeights(arn, { source: 899, target: 100 });
      expect(elb).toReceiveCommandTimes(DescribeRulesCommand, 2);
    });

    it('refuses weights ALB would refuse, before any call', async () => {
      await expect(
        new AlbSwingRules(client, TARGET, NO_WAIT).setRuleWeights(arn, { source: 1000, target: 0 }),
      ).rejects.toBeInstanceOf(ValidationFailed);
      expect(elb).toReceiveCommandTimes(ModifyRuleCommand, 0);
    });
  });

  describe('Method: deleteRule', () => {
    const arn = ruleArn('s000000000000010');

    it('deletes the rule by its ARN', async () => {
      elb.on(DeleteRuleCommand).resolves({});

      await new AlbSwingRules(client, TARGET).deleteRule(arn);

      expect(elb).toReceiveCommandWith(DeleteRuleCommand, { RuleArn: arn });
    });

    it('counts a rule already gone as deleted, so a retried delete succeeds', async () => {
      elb
        .on(DeleteRuleCommand)
        .rejects(new RuleNotFoundException({ ...meta, message: 'One or more rules not found' }));

      await expect(new AlbSwingRules(client, TARGET).deleteRule(arn)).resolves.toBeUndefined();
    });

    it('turns a throttled DeleteRule into TransientFailure and lets other errors through', async () => {
      elb
        .on(DeleteRuleCommand)
        .rejectsOnce(awsError('Throttling', 400, 'client'))
        .rejects(awsError('AccessDenied', 403, 'client'));
      const rules = new AlbSwingRules(client, TARGET);

      await expect(rules.deleteRule(arn)).rejects.toMatchObject({ name: 'TransientFailure' });
      await expect(rules.deleteRule(arn)).rejects.toMatchObject({ name: 'AccessDenied' });
    });
  });
});
