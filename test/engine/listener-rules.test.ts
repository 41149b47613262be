import { ModifyListenerCommand, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { LISTENER, recordedRules } from '#test/support/fake-aws.ts';
import { makeWorld, refusalOnly } from '#test/support/rollout-world.ts';

/** Rules another team put on the listener: a fixed response, a forward to another group, a redirect. */
const RECORDED_RULES = recordedRules().filter((rule) => !rule.IsDefault);

/** A rule that is not Swing's and sends what it matches to the source group: those requests never swing. */
const RULE_TO_SOURCE: Rule = {
  RuleArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/4d5e6f7a8b9c0d1e',
  Priority: '20',
  Conditions: [
    {
      Field: 'http-header',
      HttpHeaderConfig: { HttpHeaderName: 'X-Debug-Route', Values: ['capture'] },
    },
  ],
  Actions: [
    {
      Type: 'forward',
      Order: 1,
      TargetGroupArn: LISTENER.sourceTargetGroupArn,
      ForwardConfig: {
        TargetGroups: [{ TargetGroupArn: LISTENER.sourceTargetGroupArn, Weight: 1 }],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    },
  ],
  IsDefault: false,
};

describe('Preflight: the listener rules that bypass the swing', () => {
  it('refuses, naming it, a rule that is not Swing’s own and forwards to the source group, before any write', async () => {
    const world = makeWorld();
    world.elb.setRules([...RECORDED_RULES, RULE_TO_SOURCE]);

    const execution = world.start({ plan: 'canary' });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'ListenerShapeInvalid' });
    const cause = result.status === 'FAILED' ? result.cause : '';
    expect(cause).toContain(RULE_TO_SOURCE.RuleArn);
    expect(cause).toContain('priority 20');
    expect(cause).toContain('http-header X-Debug-Route: capture');
    // Only the rule that takes swung traffic is the reason; the others are not.
    expect(cause).not.toContain(RECORDED_RULES[0]?.RuleArn);
    expect(world.elb.mock.commandCalls(ModifyListenerCommand)).toHaveLength(0);
    expect(await world.store.get(LISTENER.listenerArn)).toEqual(refusalOnly(execution.executionArn));
    expect(world.notifications).toMatchObject([
      { outcome: 'refused', reason: { error: 'ListenerShapeInvalid' } },
    ]);
  });

  it('names the rules whose traffic is not swung in the record, and completes', async () => {
    const world = makeWorld();
    world.elb.setRules(RECORDED_RULES);

    const execution = world.start({ plan: '50:1,100' });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.executionArn).toBe(execution.executionArn);
    expect(last?.unswungRules).toEqual([
      {
        arn: RECORDED_RULES[0]?.RuleArn,
        priority: '5',
        conditions: ['path-pattern /_plugins/_security/*'],
        action: 'fixed-response 403',
      },
      {
        arn: RECORDED_RULES[1]?.RuleArn,
        priority: '10',
        conditions: ['host-header dashboards.search.example.com'],
        action:
          'forward to arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/dashboards/4f4f4f4f4f4f4f4f',
      },
      {
        arn: RECORDED_RULES[2]?.RuleArn,
        priority: '30',
        conditions: ['path-pattern /old-index/*'],
        action: 'redirect HTTP_301 to #{protocol}://#{host}:#{port}/new-index/#{path}?#{query}',
      },
    ]);
  });

  it('records no unswung rule on a listener that has only its default rule', async () => {
    const world = makeWorld();

    const result = await world.start({ plan: '50:1,100' }).result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)?.unswungRules).toBeUndefined();
  });
});
