import {
  type Action,
  DescribeListenersCommand,
  type DescribeListenersCommandOutput,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ListenerNotFoundException,
  ModifyListenerCommand,
  RuleNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlbListener } from '#adapters/listener.ts';
import { AlbListenerRules } from '#adapters/listener-rules.ts';
import { isSwingOwnRule } from '#domain/listener-rules.ts';
import type { ListenerTarget } from '#domain/types.ts';
import { recordedRules } from '#test/support/fake-aws.ts';

const ACCOUNT = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
const TARGET: ListenerTarget = {
  listenerArn: `${ACCOUNT}:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`,
  sourceTargetGroupArn: `${ACCOUNT}:targetgroup/capture-proxy/73e2d6bc24d8a067`,
  targetTargetGroupArn: `${ACCOUNT}:targetgroup/target-proxy/09e2d6bc24d8a0aa`,
};
const STRANGER = `${ACCOUNT}:targetgroup/someone-else/5a5a5a5a5a5a5a5a`;
const SOURCE = TARGET.sourceTargetGroupArn;
const TARGET_GROUP = TARGET.targetTargetGroupArn;

const elb = mockClient(ElasticLoadBalancingV2Client);
const client = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
const NO_WAIT = { verifyAttempts: 3, verifyDelayMs: 0 };

/** A DescribeListeners answer for the 9200 listener, shaped as ELBv2 returns it. */
function listenerWith(actions: Action[]): DescribeListenersCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    Listeners: [
      {
        ListenerArn: TARGET.listenerArn,
        LoadBalancerArn: `${ACCOUNT}:loadbalancer/app/migration-alb/50dc6c495c0c9188`,
        Port: 9200,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' }],
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        DefaultActions: actions,
      },
    ],
  };
}

function weightedForward(
  source: number | undefined,
  target: number | undefined,
  extra: Partial<Action> = {},
): Action {
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
    ...extra,
  };
}

/** A plain forward as DescribeListeners reports it: TargetGroupArn plus the mirrored one-tuple ForwardConfig. */
function plainForward(arn: string): Action {
  return {
    Type: 'forward',
    Order: 1,
    TargetGroupArn: arn,
    ForwardConfig: {
      TargetGroups: [{ TargetGroupArn: arn, Weight: 1 }],
      TargetGroupStickinessConfig: { Enabled: false },
    },
  };
}

const cognito: Action = {
  Type: 'authenticate-cognito',
  Order: 1,
  AuthenticateCognitoConfig: {
    UserPoolArn: 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc',
    UserPoolClientId: 'client-1',
    UserPoolDomain: 'migration',
    SessionCookieName: 'AWSELBAuthSessionCookie',
    Scope: 'openid',
    SessionTimeout: 604800,
    OnUnauthenticatedRequest: 'deny',
  },
};

function awsError(name: string, httpStatusCode: number, fault: 'client' | 'server'): Error {
  return new ElasticLoadBalancingV2ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode },
    message: `${name} from ELBv2`,
  });
}

beforeEach(() => {
  elb.reset();
});

describe('Class: AlbListener', () => {
  describe('Method: readWeights', () => {
    it('describes the listener by its exact ARN, never by scanning the load balancer', async () => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves(listenerWith([weightedForward(899, 100)]));

      // Act
      const weights = await new AlbListener(client, TARGET).readWeights();

      // Assess
      expect(weights).toEqual({ source: 899, target: 100 });
      expect(elb).toReceiveCommandExactlyOnceWith(DescribeListenersCommand, {
        ListenerArns: [TARGET.listenerArn],
      });
      expect(elb.commandCalls(DescribeListenersCommand)[0]?.args[0].input.LoadBalancerArn).toBeUndefined();
    });

    it('reads the forward that ALB performs last, after an authenticate action, by Order not list position', async () => {
      // Prepare: ELBv2 may list the actions in any order; Order decides which runs last.
      elb
        .on(DescribeListenersCommand)
        .resolves(listenerWith([weightedForward(10, 990, { Order: 2 }), { ...cognito, Order: 1 }]));

      // Act
      const weights = await new AlbListener(client, TARGET).readWeights();

      // Assess
      expect(weights).toEqual({ source: 10, target: 990 });
    });

    it('reads the groups in either tuple order', async () => {
      // Prepare
      const forward = weightedForward(0, 0);
      forward.ForwardConfig!.TargetGroups = [
        { TargetGroupArn: TARGET_GROUP, Weight: 7 },
        { TargetGroupArn: SOURCE, Weight: 993 },
      ];
      elb.on(DescribeListenersCommand).resolves(listenerWith([forward]));

      // Act
      const weights = await new AlbListener(client, TARGET).readWeights();

      // Assess
      expect(weights).toEqual({ source: 993, target: 7 });
    });

    it.each([
      ['source, as DescribeListeners reports it', plainForward(SOURCE), { source: 1, target: 0 }],
      ['target, as DescribeListeners reports it', plainForward(TARGET_GROUP), { source: 0, target: 1 }],
      [
        'source, TargetGroupArn only',
        { Type: 'forward', TargetGroupArn: SOURCE } satisfies Action,
        { source: 1, target: 0 },
      ],
    ])('reads a plain forward to the %s as all traffic there', async (_, action, expected) => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves(listenerWith([action]));

      // Act
      const weights = await new AlbListener(client, TARGET).readWeights();

      // Assess
      expect(weights).toEqual(expected);
    });

    it('reads an omitted weight as 1', async () => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves(listenerWith([weightedForward(undefined, 0)]));

      // Act
      const weights = await new AlbListener(client, TARGET).readWeights();

      // Assess
      expect(weights).toEqual({ source: 1, target: 0 });
    });

    it.each([
      [
        'one configured group and a stranger',
        [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: SOURCE, Weight: 1 },
                { TargetGroupArn: STRANGER, Weight: 0 },
              ],
            },
          },
        ],
        `forwards to [${SOURCE}, ${STRANGER}]`,
      ],
      [
        'three groups',
        [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: SOURCE, Weight: 1 },
                { TargetGroupArn: TARGET_GROUP, Weight: 0 },
                { TargetGroupArn: STRANGER, Weight: 0 },
              ],
            },
          },
        ],
        `forwards to [${SOURCE}, ${TARGET_GROUP}, ${STRANGER}]`,
      ],
      ['one group that is neither', [plainForward(STRANGER)], `forwards to [${STRANGER}]`],
      [
        'a redirect',
        [
          {
            Type: 'redirect',
            Order: 1,
            RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
          },
        ],
        'are [redirect], which do not end in a forward',
      ],
      [
        'a forward followed by a fixed response',
        [
          weightedForward(1, 0, { Order: 1 }),
          {
            Type: 'fixed-response',
            Order: 2,
            FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'maintenance' },
          },
        ],
        'are [forward, fixed-response], which do not end in a forward',
      ],
      ['no actions at all', [], 'are no actions'],
    ] satisfies [string, Action[], string][])(
      'refuses a default action with %s, saying what it found and how to fix it',
      async (_, actions, found) => {
        // Prepare
        elb.on(DescribeListenersCommand).resolves(listenerWith(actions));

        // Act
        const reading = new AlbListener(client, TARGET).readWeights();

        // Assess
        await expect(reading).rejects.toMatchObject({ name: 'ListenerShapeInvalid' });
        await expect(reading).rejects.toThrow(found);
        await expect(reading).rejects.toThrow(
          `expected exactly source ${SOURCE} and target ${TARGET_GROUP}: fix the target group ARNs`,
        );
      },
    );

    it('refuses a missing listener, naming its ARN and where to fix it', async () => {
      // Prepare
      elb
        .on(DescribeListenersCommand)
        .rejects(
          new ListenerNotFoundException({ message: 'One or more listeners not found', $metadata: {} }),
        );

      // Act
      const reading = new AlbListener(client, TARGET).readWeights();

      // Assess
      await expect(reading).rejects.toMatchObject({
        name: 'ListenerShapeInvalid',
        message: expect.stringContaining(`listener ${TARGET.listenerArn} was not found`),
      });
      await expect(reading).rejects.toThrow('set the listener ARN in the config');
    });

    it('refuses an answer that does not contain the listener asked for', async () => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves({ Listeners: [] });

      // Act & Assess
      await expect(new AlbListener(client, TARGET).readWeights()).rejects.toMatchObject({
        name: 'ListenerShapeInvalid',
        message: expect.stringContaining(TARGET.listenerArn),
      });
    });

    it.each([
      ['throttled', awsError('Throttling', 400, 'client')],
      ['failing with a 503', awsError('ServiceUnavailable', 503, 'server')],
    ])('turns a %s DescribeListeners into TransientFailure for the ASL to retry', async (_, error) => {
      // Prepare
      elb.on(DescribeListenersCommand).rejects(error);

      // Act & Assess
      await expect(new AlbListener(client, TARGET).readWeights()).rejects.toMatchObject({
        name: 'TransientFailure',
        cause: error,
      });
    });

    it('lets an error no retry can fix through as it is', async () => {
      // Prepare
      const denied = awsError('AccessDenied', 403, 'client');
      elb.on(DescribeListenersCommand).rejects(denied);

      // Act & Assess
      await expect(new AlbListener(client, TARGET).readWeights()).rejects.toBe(denied);
    });
  });

  describe('Method: writeWeights', () => {
    it('sends back every action with its order, changing the two weights and turning stickiness off', async () => {
      // Prepare
      const forward = weightedForward(999, 0, {
        Order: 2,
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: SOURCE, Weight: 999 },
            { TargetGroupArn: TARGET_GROUP, Weight: 0 },
          ],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 },
        },
      });
      const before = listenerWith([cognito, forward]);
      const after = listenerWith([cognito, weightedForward(989, 10, { Order: 2 })]);
      elb.on(DescribeListenersCommand).resolvesOnce(before).resolves(after);
      elb.on(ModifyListenerCommand).resolves({ Listeners: [] });

      // Act
      await new AlbListener(client, TARGET, NO_WAIT).writeWeights({ source: 989, target: 10 });

      // Assess
      expect(elb).toReceiveCommandTimes(ModifyListenerCommand, 1);
      expect(elb.commandCalls(ModifyListenerCommand)[0]?.args[0].input).toStrictEqual({
        ListenerArn: TARGET.listenerArn,
        DefaultActions: [
          cognito,
          {
            Type: 'forward',
            Order: 2,
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: SOURCE, Weight: 989 },
                { TargetGroupArn: TARGET_GROUP, Weight: 10 },
              ],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
      });
    });

    it('keeps what the listener has right before the write, not what an earlier read saw', async () => {
      // Prepare: between the read and the write someone renumbers the action and turns stickiness on.
      const sticky = weightedForward(999, 0);
      sticky.Order = 7;
      sticky.ForwardConfig!.TargetGroupStickinessConfig = { Enabled: true, DurationSeconds: 60 };
      elb
        .on(DescribeListenersCommand)
        .resolvesOnce(listenerWith([weightedForward(999, 0)]))
        .resolvesOnce(listenerWith([sticky]))
        .resolves(listenerWith([weightedForward(899, 100)]));
      elb.on(ModifyListenerCommand).resolves({});
      const listener = new AlbListener(client, TARGET, NO_WAIT);
      await listener.readWeights();

      // Act
      await listener.writeWeights({ source: 899, target: 100 });

      // Assess
      expect(elb.calls().map((call) => call.args[0].constructor.name)).toEqual([
        'DescribeListenersCommand',
        'DescribeListenersCommand',
        'ModifyListenerCommand',
        'DescribeListenersCommand',
      ]);
      expect(elb).toReceiveCommandWith(ModifyListenerCommand, {
        DefaultActions: [
          expect.objectContaining({
            Order: 7,
            ForwardConfig: expect.objectContaining({
              TargetGroupStickinessConfig: { Enabled: false },
            }),
          }),
        ],
      });
    });

    it('turns a plain forward into a weighted forward to both groups, without TargetGroupArn', async () => {
      // Prepare
      elb
        .on(DescribeListenersCommand)
        .resolvesOnce(listenerWith([plainForward(SOURCE)]))
        .resolves(listenerWith([weightedForward(990, 10)]));
      elb.on(ModifyListenerCommand).resolves({});

      // Act
      await new AlbListener(client, TARGET, NO_WAIT).writeWeights({ source: 990, target: 10 });

      // Assess
      expect(elb.commandCalls(ModifyListenerCommand)[0]?.args[0].input.DefaultActions).toStrictEqual([
        {
          Type: 'forward',
          Order: 1,
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: SOURCE, Weight: 990 },
              { TargetGroupArn: TARGET_GROUP, Weight: 10 },
            ],
            TargetGroupStickinessConfig: { Enabled: false },
          },
        },
      ]);
    });

    it('asks ELBv2 to keep the OIDC client secret, which DescribeListeners never returns', async () => {
      // Prepare
      const oidc: Action = {
        Type: 'authenticate-oidc',
        Order: 1,
        AuthenticateOidcConfig: {
          Issuer: 'https://idp.example.com',
          AuthorizationEndpoint: 'https://idp.example.com/authorize',
          TokenEndpoint: 'https://idp.example.com/token',
          UserInfoEndpoint: 'https://idp.example.com/userinfo',
          ClientId: 'swing',
          OnUnauthenticatedRequest: 'authenticate',
        },
      };
      elb
        .on(DescribeListenersCommand)
        .resolvesOnce(listenerWith([oidc, weightedForward(1, 0, { Order: 2 })]))
        .resolves(listenerWith([oidc, weightedForward(0, 1, { Order: 2 })]));
      elb.on(ModifyListenerCommand).resolves({});

      // Act
      await new AlbListener(client, TARGET, NO_WAIT).writeWeights({ source: 0, target: 1 });

      // Assess
      expect(elb.commandCalls(ModifyListenerCommand)[0]?.args[0].input.DefaultActions?.[0]).toStrictEqual({
        ...oidc,
        AuthenticateOidcConfig: { ...oidc.AuthenticateOidcConfig, UseExistingClientSecret: true },
      });
    });

    it('reads the listener back until the new weights show, then succeeds', async () => {
      // Prepare: the first read-back still shows the old weights.
      elb
        .on(DescribeListenersCommand)
        .resolvesOnce(listenerWith([weightedForward(999, 0)]))
        .resolvesOnce(listenerWith([weightedForward(999, 0)]))
        .resolves(listenerWith([weightedForward(499, 500)]));
      elb.on(ModifyListenerCommand).resolves({});

      // Act
      await new AlbListener(client, TARGET, NO_WAIT).writeWeights({ source: 499, target: 500 });

      // Assess
      expect(elb).toReceiveCommandTimes(DescribeListenersCommand, 3);
    });

    it('reports WeightsNotApplied, with both pairs, when the read-back never shows the weights written', async () => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves(listenerWith([weightedForward(999, 0)]));
      elb.on(ModifyListenerCommand).resolves({});

      // Act
      const writing = new AlbListener(client, TARGET, NO_WAIT).writeWeights({ source: 899, target: 100 });

      // Assess
      await expect(writing).rejects.toMatchObject({
        name: 'WeightsNotApplied',
        message: expect.stringContaining('wrote source 899 / target 100'),
      });
      await expect(writing).rejects.toThrow('read back source 999 / target 0 after 3 reads');
      expect(elb).toReceiveCommandTimes(DescribeListenersCommand, 4);
    });

    it('still reads back once when told to make no verify attempts', async () => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves(listenerWith([weightedForward(999, 0)]));
      elb.on(ModifyListenerCommand).resolves({});

      // Act
      const writing = new AlbListener(client, TARGET, { verifyAttempts: 0, verifyDelayMs: 0 }).writeWeights({
        source: 1,
        target: 1,
      });

      // Assess
      await expect(writing).rejects.toMatchObject({ name: 'WeightsNotApplied' });
      expect(elb).toReceiveCommandTimes(DescribeListenersCommand, 2);
    });

    it('turns a throttled ModifyListener into TransientFailure for the ASL to retry', async () => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves(listenerWith([weightedForward(999, 0)]));
      elb.on(ModifyListenerCommand).rejects(awsError('Throttling', 400, 'client'));

      // Act & Assess
      await expect(
        new AlbListener(client, TARGET, NO_WAIT).writeWeights({ source: 899, target: 100 }),
      ).rejects.toMatchObject({
        name: 'TransientFailure',
        message: expect.stringContaining('Throttling'),
      });
    });

    it('retries a throttled read-back instead of calling the write failed', async () => {
      // Prepare
      elb
        .on(DescribeListenersCommand)
        .resolvesOnce(listenerWith([weightedForward(999, 0)]))
        .rejectsOnce(awsError('Throttling', 400, 'client'))
        .resolves(listenerWith([weightedForward(899, 100)]));
      elb.on(ModifyListenerCommand).resolves({});

      // Act
      await new AlbListener(client, TARGET, NO_WAIT).writeWeights({ source: 899, target: 100 });

      // Assess
      expect(elb).toReceiveCommandTimes(DescribeListenersCommand, 3);
    });

    it('writes nothing to a listener of the wrong shape', async () => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves(listenerWith([plainForward(STRANGER)]));

      // Act & Assess
      await expect(
        new AlbListener(client, TARGET, NO_WAIT).writeWeights({ source: 899, target: 100 }),
      ).rejects.toMatchObject({ name: 'ListenerShapeInvalid' });
      expect(elb).not.toReceiveCommand(ModifyListenerCommand);
    });

    it.each([
      [{ source: 0, target: 0 }, 'weights'],
      [{ source: 1000, target: 0 }, 'weights.source'],
      [{ source: 1, target: 2.5 }, 'weights.target'],
      [{ source: -1, target: 5 }, 'weights.source'],
    ])('refuses %o before calling ELBv2 at all', async (weights, field) => {
      // Act
      const writing = new AlbListener(client, TARGET, NO_WAIT).writeWeights(weights);

      // Assess
      await expect(writing).rejects.toMatchObject({
        name: 'ValidationFailed',
        issues: [expect.objectContaining({ field })],
      });
      expect(elb.calls()).toHaveLength(0);
    });
  });

  describe('Method: healthyTargetCount', () => {
    it('counts only healthy targets, in the target target group', async () => {
      // Prepare
      elb.on(DescribeTargetHealthCommand).resolves({
        TargetHealthDescriptions: [
          {
            Target: { Id: '10.0.1.10', Port: 9200 },
            HealthCheckPort: '9200',
            TargetHealth: { State: 'healthy' },
          },
          {
            Target: { Id: '10.0.1.11', Port: 9200 },
            HealthCheckPort: '9200',
            TargetHealth: {
              State: 'unhealthy',
              Reason: 'Target.ResponseCodeMismatch',
              Description: 'Health checks failed with these codes: [502]',
            },
          },
          {
            Target: { Id: '10.0.1.12', Port: 9200 },
            TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress' },
          },
          {
            Target: { Id: '10.0.1.13', Port: 9200 },
            TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' },
          },
          { Target: { Id: '10.0.1.14', Port: 9200 }, TargetHealth: { State: 'healthy' } },
        ],
      });

      // Act
      const count = await new AlbListener(client, TARGET).healthyTargetCount();

      // Assess
      expect(count).toBe(2);
      expect(elb).toReceiveCommandExactlyOnceWith(DescribeTargetHealthCommand, {
        TargetGroupArn: TARGET_GROUP,
      });
    });

    it('counts an empty target group as zero healthy targets', async () => {
      // Prepare
      elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

      // Act & Assess
      expect(await new AlbListener(client, TARGET).healthyTargetCount()).toBe(0);
    });

    it('turns a throttled DescribeTargetHealth into TransientFailure', async () => {
      // Prepare
      elb.on(DescribeTargetHealthCommand).rejects(awsError('Throttling', 400, 'client'));

      // Act & Assess
      await expect(new AlbListener(client, TARGET).healthyTargetCount()).rejects.toMatchObject({
        name: 'TransientFailure',
      });
    });
  });

  describe('Method: stickinessSeconds', () => {
    it.each([
      ['on', { Enabled: true, DurationSeconds: 3600 }, 3600],
      ['off', { Enabled: false }, undefined],
    ])('reports the weighted action’s stickiness when it is %s', async (_, stickiness, expected) => {
      // Prepare
      const forward = weightedForward(999, 0);
      forward.ForwardConfig!.TargetGroupStickinessConfig = stickiness;
      elb.on(DescribeListenersCommand).resolves(listenerWith([forward]));

      // Act & Assess
      expect(await new AlbListener(client, TARGET).stickinessSeconds()).toBe(expected);
    });

    it('reports no stickiness on a plain forward', async () => {
      // Prepare
      elb.on(DescribeListenersCommand).resolves(listenerWith([{ Type: 'forward', TargetGroupArn: SOURCE }]));

      // Act & Assess
      expect(await new AlbListener(client, TARGET).stickinessSeconds()).toBeUndefined();
    });
  });

  describe('Class: AlbListenerRules, method: readRules', () => {
    const ruleArn = (id: string) =>
      `${ACCOUNT}:listener-rule/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/${id}`;

    it('reads every page of DescribeRules for the exact listener, leaving out the default rule', async () => {
      // Prepare: the recorded answer, split in two pages.
      const recorded = recordedRules();
      elb
        .on(DescribeRulesCommand, { ListenerArn: TARGET.listenerArn, Marker: undefined })
        .resolves({ Rules: recorded.slice(0, 2), NextMarker: 'page-2' })
        .on(DescribeRulesCommand, { ListenerArn: TARGET.listenerArn, Marker: 'page-2' })
        .resolves({ Rules: recorded.slice(2) });

      // Act
      const rules = await new AlbListenerRules(client, TARGET).readRules();

      // Assess
      expect(rules.map((rule) => [rule.priority, rule.action, rule.swungGroups])).toEqual([
        ['5', 'fixed-response 403', []],
        ['10', `forward to ${ACCOUNT}:targetgroup/dashboards/4f4f4f4f4f4f4f4f`, []],
        ['30', 'redirect HTTP_301 to #{protocol}://#{host}:#{port}/new-index/#{path}?#{query}', []],
      ]);
      expect(elb).toHaveReceivedCommandTimes(DescribeRulesCommand, 2);
    });

    it('names each condition and marks the swung groups a rule forwards to, in priority order', async () => {
      elb.on(DescribeRulesCommand).resolves({
        Rules: [
          {
            RuleArn: ruleArn('0000000000000002'),
            Priority: '200',
            Conditions: [
              { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'HEAD'] } },
              { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'pretty', Value: 'true' }] } },
            ],
            Actions: [weightedForward(3, 1)],
            IsDefault: false,
          },
          {
            RuleArn: ruleArn('0000000000000001'),
            Priority: '100',
            Conditions: [
              { Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8'] } },
              { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Route', Values: ['new'] } },
            ],
            Actions: [
              { ...cognito, Order: 1 },
              { ...plainForward(TARGET_GROUP), Order: 2 },
            ],
            IsDefault: false,
          },
          {
            RuleArn: ruleArn('0000000000000003'),
            Priority: '300',
            Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/drain/*'] } }],
            // Weighted 0 to the source: it sends none of what it matches there.
            Actions: [
              {
                Type: 'forward',
                ForwardConfig: {
                  TargetGroups: [
                    { TargetGroupArn: STRANGER, Weight: 1 },
                    { TargetGroupArn: SOURCE, Weight: 0 },
                  ],
                },
              },
            ],
            IsDefault: false,
          },
        ],
      });

      const rules = await new AlbListenerRules(client, TARGET).readRules();

      expect(rules).toEqual([
        {
          arn: ruleArn('0000000000000001'),
          priority: '100',
          conditions: ['source-ip 10.0.0.0/8', 'http-header X-Route: new'],
          matchers: [
            { field: 'source-ip', values: ['10.0.0.0/8'] },
            { field: 'http-header', values: ['new'], headerName: 'X-Route' },
          ],
          action: `authenticate-cognito, then forward to ${TARGET_GROUP}`,
          swungGroups: ['target'],
          tags: {},
        },
        {
          arn: ruleArn('0000000000000002'),
          priority: '200',
          conditions: ['http-request-method GET, HEAD', 'query-string pretty=true'],
          matchers: [
            { field: 'http-request-method', values: ['GET', 'HEAD'] },
            { field: 'query-string', values: ['pretty=true'] },
          ],
          action: `forward to ${SOURCE} weight 3, ${TARGET_GROUP} weight 1`,
          swungGroups: ['source', 'target'],
          tags: {},
        },
        {
          arn: ruleArn('0000000000000003'),
          priority: '300',
          conditions: ['path-pattern /drain/*'],
          matchers: [{ field: 'path-pattern', values: ['/drain/*'] }],
          action: `forward to ${STRANGER} weight 1, ${SOURCE} weight 0`,
          swungGroups: [],
          tags: {},
        },
      ]);
    });

    it('reads every rule’s tags in batches of 20, so that Swing’s own rules are told from everyone else’s', async () => {
      // Prepare: 45 rules, the 7th and the 41st tagged as Swing's.
      const rules = Array.from({ length: 45 }, (_, index) => ({
        RuleArn: ruleArn(String(index).padStart(16, '0')),
        Priority: String(index + 1),
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [`/app-${index}/*`] } }],
        Actions: [plainForward(STRANGER)],
        IsDefault: false,
      }));
      const swings = new Set([rules[6]!.RuleArn, rules[40]!.RuleArn]);
      elb
        .on(DescribeRulesCommand)
        .resolves({ Rules: rules })
        .on(DescribeTagsCommand)
        .callsFake((input: { ResourceArns: string[] }) => ({
          TagDescriptions: input.ResourceArns.map((arn) => ({
            ResourceArn: arn,
            Tags: swings.has(arn)
              ? [
                  {
                    Key: 'swing:owner',
                    Value: 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1',
                  },
                  { Key: 'swing:rule', Value: 'reads-search' },
                ]
              : [{ Key: 'team', Value: 'search' }],
          })),
        }));

      // Act
      const read = await new AlbListenerRules(client, TARGET).readRules();

      // Assess
      const batches = elb
        .commandCalls(DescribeTagsCommand)
        .map((call) => call.args[0].input.ResourceArns ?? []);
      expect(batches.map((batch) => batch.length)).toEqual([20, 20, 5]);
      expect(batches.flat()).toEqual(rules.map((rule) => rule.RuleArn));
      expect(read.filter(isSwingOwnRule).map((rule) => rule.arn)).toEqual([...swings]);
      expect(read[0]?.tags).toEqual({ team: 'search' });
    });

    it('asks for no tags when the listener has only its default rule', async () => {
      elb.on(DescribeRulesCommand).resolves({ Rules: recordedRules().filter((rule) => rule.IsDefault) });

      expect(await new AlbListenerRules(client, TARGET).readRules()).toEqual([]);
      expect(elb).toReceiveCommandTimes(DescribeTagsCommand, 0);
    });

    it('reads again when a rule is deleted between DescribeRules and DescribeTags', async () => {
      const [kept, deleted] = [ruleArn('00000000000000aa'), ruleArn('00000000000000bb')];
      const rule = (arn: string, priority: string) => ({
        RuleArn: arn,
        Priority: priority,
        Conditions: [{ Field: 'path-pattern', Values: ['/x/*'] }],
        Actions: [plainForward(STRANGER)],
      });
      elb
        .on(DescribeRulesCommand)
        .resolvesOnce({ Rules: [rule(kept, '1'), rule(deleted, '2')] })
        .resolves({ Rules: [rule(kept, '1')] })
        .on(DescribeTagsCommand)
        .rejectsOnce(new RuleNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'gone' }))
        .resolves({ TagDescriptions: [{ ResourceArn: kept, Tags: [] }] });

      const read = await new AlbListenerRules(client, TARGET).readRules();

      expect(read.map((found) => found.arn)).toEqual([kept]);
      expect(elb).toReceiveCommandTimes(DescribeRulesCommand, 2);
    });

    it('gives up with TransientFailure when rules keep vanishing while read, and classifies DescribeTags errors', async () => {
      elb
        .on(DescribeRulesCommand)
        .resolves({ Rules: [{ RuleArn: ruleArn('00000000000000cc'), Priority: '1', Actions: [] }] })
        .on(DescribeTagsCommand)
        .rejects(new RuleNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'gone' }));
      const rules = new AlbListenerRules(client, TARGET);

      await expect(rules.readRules()).rejects.toMatchObject({
        name: 'TransientFailure',
        message: expect.stringContaining('changed while they were read 3 times'),
      });

      elb.on(DescribeTagsCommand).rejects(awsError('Throttling', 400, 'client'));
      await expect(rules.readRules()).rejects.toMatchObject({ name: 'TransientFailure' });
      elb.on(DescribeTagsCommand).rejects(awsError('AccessDenied', 403, 'client'));
      await expect(rules.readRules()).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('turns throttling into TransientFailure and a missing listener into ListenerShapeInvalid', async () => {
      elb
        .on(DescribeRulesCommand)
        .rejectsOnce(awsError('Throttling', 400, 'client'))
        .rejects(new ListenerNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'not found' }));
      const rules = new AlbListenerRules(client, TARGET);

      await expect(rules.readRules()).rejects.toMatchObject({ name: 'TransientFailure' });
      await expect(rules.readRules()).rejects.toMatchObject({
        name: 'ListenerShapeInvalid',
        message: expect.stringContaining(TARGET.listenerArn),
      });
    });
  });
});
