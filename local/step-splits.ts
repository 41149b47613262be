import {
  DEFAULT_DELIVERED_SPLIT_POLICY,
  type DeliveredSplit,
  type DeliveredSplitPolicy,
  judgeDeliveredSplit,
} from '#domain/delivered-split.ts';
import { SWING_RULE_TAG } from '#domain/listener-rules.ts';
import { specOf } from '#domain/swing-rules.ts';
import type { StepRecord, Weights } from '#domain/types.ts';
import { sameWeights } from '#domain/weights.ts';
import { type AlbTotals, DEFAULT_ROUTE, type DescribedRule, type Group, type LocalAlb } from './alb.ts';
import { forwardTargets } from './alb-rules.ts';
import type { RequestKindCounts } from './request-kinds.ts';

/**
 * Each step's delivered split, counted exactly by the local ALB, which knows which rule routed each request:
 * a reads-first read step counts what its read rules routed, from each rule's write of the step's weights to
 * that rule's next write (or the default action's next write, which ends every read step); the write cutover
 * counts what the default action routed; an all-mode step, the whole weighted listener between two writes.
 */

type Counts = Record<Group, number>;
/** Each route's routed counts (a rule's ARN, or DEFAULT_ROUTE), as at one instant. */
export type RoutedByRoute = Readonly<Record<string, Counts>>;

/** A write of the default action's weights and the counts at that instant. */
export interface WeightWrite {
  readonly at: number;
  readonly weights: Weights;
  readonly routed: Counts;
  readonly byRoute: RoutedByRoute;
  /** The requests routed to the target so far, by kind. */
  readonly kinds: RequestKindCounts;
}

/** A write of one read rule's weights (undefined: the rule was deleted) and the counts at that instant. */
export interface ReadRuleWrite {
  readonly at: number;
  readonly route: string;
  readonly weights: Weights | undefined;
  readonly byRoute: RoutedByRoute;
}

/** Where a step that writes no weight (the pins leaving) starts, and the counts at that instant. */
export interface StepStart {
  readonly at: number;
  readonly routed: Counts;
  readonly byRoute: RoutedByRoute;
}

export interface SplitSources {
  readonly defaults: readonly WeightWrite[];
  /** The starts of the steps that write no weight: each ends the window of the step before it. */
  readonly starts: readonly StepStart[];
  readonly rules: readonly ReadRuleWrite[];
  /** The counts now (or at the run's end). */
  readonly end: { readonly at: number; readonly routed: Counts; readonly byRoute: RoutedByRoute };
}

export function routedByRoute(totals: AlbTotals): RoutedByRoute {
  return Object.fromEntries(
    Object.entries(totals.byRoute).map(([route, each]) => [route, { ...each.routed }]),
  );
}

const zero: Counts = { source: 0, target: 0 };
const delta = (to: Counts | undefined, from: Counts | undefined): Counts => ({
  source: (to ?? zero).source - (from ?? zero).source,
  target: (to ?? zero).target - (from ?? zero).target,
});
const iso = (ms: number) => new Date(ms).toISOString();
// The engine reads its clock just before it writes: a step's write is at or just after its start.
const writtenFor = (at: number, step: StepRecord) => at >= Date.parse(step.startedAt) - 5;

export function stepSplit(
  step: StepRecord,
  sources: SplitSources,
  policy: DeliveredSplitPolicy = DEFAULT_DELIVERED_SPLIT_POLICY,
): DeliveredSplit {
  if (step.kind === 'reads') return readStepSplit(step, sources, policy);
  if (step.kind === 'pins') return pinsStepSplit(step, sources, policy);
  const index = sources.defaults.findIndex(
    (write) => writtenFor(write.at, step) && sameWeights(write.weights, step.weights),
  );
  const from = sources.defaults[index];
  if (!from) return judgeDeliveredSplit({ weights: step.weights, requests: { ...zero } }, policy);
  const next = sources.defaults[index + 1];
  const start = sources.starts.find((each) => each.at >= from.at && (!next || each.at < next.at));
  const to = start ?? next ?? sources.end;
  // The cutover moves the default action only: the pins keep their requests on the source by design.
  const requests =
    step.kind === 'cutover'
      ? delta(to.byRoute[DEFAULT_ROUTE], from.byRoute[DEFAULT_ROUTE])
      : delta(to.routed, from.routed);
  return judgeDeliveredSplit(
    {
      weights: step.weights,
      requests,
      from: iso(from.at),
      to: iso(to.at),
      ...(step.kind === 'cutover'
        ? { notes: ["the default action's requests (writes, and reads once the read rules left)"] }
        : {}),
    },
    policy,
  );
}

/**
 * The pins' step writes no weight: it sends the pinned reads to the target. Its window runs from its start to
 * the next write (a restore) or the end, and counts the default action, which takes every request once the pins
 * are gone (a pinned read in the instant before their removal is the pins', not the step's).
 */
function pinsStepSplit(
  step: StepRecord,
  sources: SplitSources,
  policy: DeliveredSplitPolicy,
): DeliveredSplit {
  const from = sources.starts.find((each) => writtenFor(each.at, step));
  if (!from) return judgeDeliveredSplit({ weights: step.weights, requests: { ...zero } }, policy);
  const to = sources.defaults.find((write) => write.at >= from.at) ?? sources.end;
  return judgeDeliveredSplit(
    {
      weights: step.weights,
      requests: delta(to.byRoute[DEFAULT_ROUTE], from.byRoute[DEFAULT_ROUTE]),
      from: iso(from.at),
      to: iso(to.at),
      notes: ["the default action's requests: once the pins left, every read and write follows it"],
    },
    policy,
  );
}

function readStepSplit(
  step: StepRecord,
  sources: SplitSources,
  policy: DeliveredSplitPolicy,
): DeliveredSplit {
  const requests: Counts = { ...zero };
  let from: number | undefined;
  let to: number | undefined;
  for (const route of new Set(sources.rules.map((write) => write.route))) {
    const own = sources.rules.filter((write) => write.route === route);
    const start = own.find(
      (write) => writtenFor(write.at, step) && write.weights && sameWeights(write.weights, step.weights),
    );
    if (!start) continue;
    const ruleEnd = own[own.indexOf(start) + 1];
    const defaultEnd = sources.defaults.find((write) => write.at >= start.at);
    const end =
      ruleEnd && (!defaultEnd || ruleEnd.at <= defaultEnd.at) ? ruleEnd : (defaultEnd ?? sources.end);
    const counted = delta(end.byRoute[route], start.byRoute[route]);
    requests.source += counted.source;
    requests.target += counted.target;
    from = Math.min(from ?? start.at, start.at);
    to = Math.max(to ?? end.at, end.at);
  }
  return judgeDeliveredSplit(
    {
      weights: step.weights,
      requests,
      ...(from !== undefined ? { from: iso(from) } : {}),
      ...(to !== undefined ? { to: iso(to) } : {}),
      notes: ["the read rules' requests, counted per rule by the local ALB"],
    },
    policy,
  );
}

/** The weights a read rule of Swing's forwards with; undefined for any other rule. */
function readRuleWeights(
  rule: DescribedRule | undefined,
  groups: LocalAlb['targetGroupArns'],
): Weights | undefined {
  const name = rule?.Tags.find((tag) => tag.Key === SWING_RULE_TAG)?.Value;
  if (!rule || !name || specOf({ name })?.role !== 'reads') return undefined;
  const weights = { source: 0, target: 0 };
  for (const action of rule.Actions ?? []) {
    for (const { arn, weight } of forwardTargets(action)) {
      if (arn === groups.source) weights.source += weight;
      if (arn === groups.target) weights.target += weight;
    }
  }
  return weights;
}

/**
 * The local ALB, with every write of a read rule's weights (and its deletion) told to `record` as it happens:
 * the counts taken then split the requests exactly between the old weights and the new.
 */
export function observeReadRuleWrites(
  alb: LocalAlb,
  record: (write: ReadRuleWrite) => void,
  now: () => number = Date.now,
): LocalAlb {
  const written = (route: string, weights: Weights | undefined) =>
    record({ at: now(), route, weights, byRoute: routedByRoute(alb.totals()) });
  const reads = new Set<string>();
  return {
    ...alb,
    createRule: (input) => {
      const arn = alb.createRule(input);
      const weights = readRuleWeights(
        alb.describeRules().find((rule) => rule.RuleArn === arn),
        alb.targetGroupArns,
      );
      if (weights) {
        reads.add(arn);
        written(arn, weights);
      }
      return arn;
    },
    modifyRule: (ruleArn, change) => {
      const rule = alb.modifyRule(ruleArn, change);
      const weights = change.actions ? readRuleWeights(rule, alb.targetGroupArns) : undefined;
      if (weights) written(ruleArn, weights);
      return rule;
    },
    deleteRule: (ruleArn) => {
      alb.deleteRule(ruleArn);
      if (reads.delete(ruleArn)) written(ruleArn, undefined);
    },
  };
}
