import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { expect } from 'vitest';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { PIN_WEIGHTS, SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { ListenerRecord } from '#domain/types.ts';
import { isIncrease } from '#domain/weights.ts';
import { compileConditions, parseRequest } from '#local/alb-rules.ts';
import { type FiredFault, foreignRule, type Run } from './fault-run.ts';
import { isForceAfterLostStop } from './fault-scenario.ts';
import { story, waitIntervals } from './invariants.ts';
import { isFreezePriority, isStaleFreezeRule } from './reverse-capture-model.ts';

/**
 * The guarantees of the kinds of event the fault model draws since issue 20: operator commands at any moment,
 * stalls inside an invocation, a sticky weighted action, foreign rules, a damaged record (and another rollout
 * holding the listener at the start, judged by I1 and I8 on the weights it left).
 */

const ofCommand = (run: Run, command: string) =>
  run.fired.filter(
    (fault): fault is FiredFault & { fault: { kind: 'operator' } } =>
      fault.fault.kind === 'operator' && fault.fault.command === command,
  );

/** The rollout held the lock and was still running its steps when the fault struck. */
const liveAt = (run: Run, fault: FiredFault) =>
  fault.record?.lockOwner === run.executionArn &&
  fault.record.rollout !== undefined &&
  !['completing', 'rolling-back', 'halted', 'completed', 'rolled-back'].includes(
    fault.record.rollout.status,
  ) &&
  fault.record.rollout.restored !== true;

/**
 * A pause holds whenever it arrives: once `swing pause` was accepted while the rollout ran its steps, and until
 * someone resumes or promotes, no step begins (a step under way when it arrived finishes its write) and the
 * rollout does not complete; it holds, and its hold times out into a rollback. Judged on the record: the steps'
 * start times and the outcome (a step begun in the same millisecond as the pause may have come first).
 */
export function expectPauseHolds(run: Run, record: ListenerRecord | undefined): void {
  const why = `\n  ${story(run)}`;
  const finished = record?.history.find((rollout) => rollout.executionArn === run.executionArn);
  for (const pause of ofCommand(run, 'pause')) {
    if (pause.outcome === undefined || !liveAt(run, pause)) continue;
    const released =
      run.fired.some(
        (later) =>
          later.fault.kind === 'operator' &&
          (later.fault.command === 'resume' || later.fault.command === 'promote') &&
          later.firedAt >= pause.firedAt,
      ) ||
      run.gates.some((gate) => gate.resolution.by === 'promote' && (gate.outcomeAt ?? 0) >= pause.firedAt);
    if (released) continue;
    const begun = (finished?.steps ?? []).filter((step) => Date.parse(step.startedAt) > pause.firedAt);
    expect(
      begun.map((step) => `step ${step.index + 1} at ${step.startedAt}`),
      `a pause (at ${new Date(pause.firedAt).toISOString()}) holds: no step begins after it${why}`,
    ).toEqual([]);
    expect(finished?.outcome, `a paused rollout does not complete${why}`).not.toBe('completed');
  }
}

/**
 * Resume ends a pause only: a resume that passed a gate passed a pause's own hold, never a plan gate nor the
 * write cutover's gate (those need `swing promote`).
 */
export function expectResumePassesNoGate(run: Run): void {
  const why = `\n  ${story(run)}`;
  const readsFirst = run.scenario.readsFirst;
  for (const resume of ofCommand(run, 'resume')) {
    if (resume.outcome !== 'task-succeeded') continue;
    // The token it succeeded is the one the record held: a pause's hold before a gated step's first write is a
    // pause's, not that step's gate (which opens after its bake).
    if (resume.record?.rollout?.taskKind === 'pause') continue;
    const index = resume.record?.rollout?.stepIndex ?? -1;
    const planGate = run.steps[index]?.gate === true;
    const cutoverGate =
      readsFirst !== undefined &&
      !readsFirst.rehearsal &&
      readsFirst.cutoverGate === 'manual' &&
      index === run.steps.length - 1;
    expect(
      { planGate, cutoverGate },
      `resume passed the gate at step ${index + 1}: only a pause's hold, never a plan gate or the cutover gate${why}`,
    ).toEqual({ planGate: false, cutoverGate: false });
  }
}

/**
 * Every open bake, gate and wait for the replayer is reachable by an alarm event and an abort: its token is in
 * the record while it is open. Not judged: a wait whose own invocation a fault slowed, cut off or stalled (its
 * token comes late, or never; its opening check or the check at its end reads the alarms then), one shorter than
 * its invocation's start, and one whose rollout no longer held the lock or had ended.
 */
export function expectOpenWaitsReachable(run: Run): void {
  const why = `\n  ${story(run)}`;
  const startMs = run.scenario.latencyMs;
  const stoppedAt = run.fired.find(
    (fault) =>
      fault.fault.kind === 'stop' ||
      (fault.fault.kind === 'operator' &&
        (fault.fault.command === 'force-release' || isForceAfterLostStop(fault.fault.command))),
  )?.firedAt;
  for (const wait of waitIntervals(run)) {
    if (wait.endedAt - wait.enteredAt <= startMs + 1) continue;
    if (stoppedAt !== undefined && stoppedAt <= wait.enteredAt + startMs) continue;
    const ownStruck = run.struck.some((hit) => hit.stateName === wait.state && hit.entry === wait.entry);
    const ownStalled = run.stalled.some(
      (call) => call.stateName === wait.state && call.at >= wait.enteredAt && call.at <= wait.endedAt,
    );
    if (ownStruck || ownStalled) continue;
    // A hand change, a damaged record or a lost lock ends a rollout at its next step: not a wait to reach.
    const ended = run.fired.some(
      (fault) =>
        (fault.fault.kind === 'record-damage' ||
          fault.fault.kind === 'drift' ||
          fault.fault.kind === 'reshape' ||
          fault.fault.kind === 'rule-drift' ||
          (fault.fault.kind === 'operator' && fault.fault.command.startsWith('force'))) &&
        fault.firedAt <= wait.enteredAt + startMs,
    );
    if (ended) continue;
    const opened = run.waits.some(
      (stored) => stored.openedAt >= wait.enteredAt && stored.openedAt <= wait.enteredAt + startMs + 1,
    );
    expect(
      opened,
      `the ${wait.state} entered at ${wait.enteredAt - run.startedAt} ms stored its token, so that an alarm or an abort reaches it${why}`,
    ).toBe(true);
  }
}

/** Requests that the foreign rules of the scenarios match, and others. */
const REQUESTS = (() => {
  const paths = [
    '/',
    '/_search',
    '/i/_search',
    '/i/_count',
    '/_msearch',
    '/i/_doc/1',
    '/i/_doc/_search',
    '/_plugins/_security/api/account',
    '/_plugins/_security/_search',
    '/_search/scroll',
    '/i/_async_search',
    '/maintenance',
    '/maintenance/_search',
    '/app/_search',
  ];
  const hosts = ['search.example.com', 'other.example.com'];
  return ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'].flatMap((method) =>
    paths.flatMap((path) =>
      hosts.map((host) => ({
        method,
        path,
        host,
        parsed: parseRequest({ method, url: path, headers: { host } }),
      })),
    ),
  );
})();

/**
 * A foreign rule keeps its traffic: no rule Swing creates is evaluated before a rule of someone else's for a
 * request that rule takes (it would change where that request goes); a foreign rule that takes every read makes
 * Preflight refuse, writing nothing.
 */
export function expectForeignRulesKeepTraffic(run: Run): void {
  const observed = run.readsFirst;
  const foreign = run.scenario.foreignRules ?? [];
  if (!observed || foreign.length === 0) return;
  const why = `\n  ${story(run)}`;
  const matchers = (rule: Rule) => compileConditions(rule.Conditions ?? []);
  for (const mine of observed.created) {
    const priority = Number(mine.Priority);
    const matchesMine = matchers(mine);
    for (const theirs of foreign.map(foreignRule)) {
      if (Number(theirs.Priority) < priority) continue;
      const matchesTheirs = matchers(theirs);
      const taken = REQUESTS.filter(
        (request) => matchesTheirs(request.parsed) && matchesMine(request.parsed),
      );
      expect(
        taken.map((request) => `${request.method} ${request.host}${request.path}`),
        `Swing's rule at priority ${priority} takes requests of the foreign rule at ${theirs.Priority} (${JSON.stringify(theirs.Conditions)})${why}`,
      ).toEqual([]);
    }
  }
}

/**
 * No restore leaves sticky clients on the target: a rollout that did not complete never sent clients to the
 * target above its starting share through a sticky forward (their cookies would keep them there after the
 * restore, for up to the stickiness duration).
 */
export function expectNoStickyClientsLeft(run: Run, record: ListenerRecord | undefined): void {
  if (!run.scenario.stickySeconds) return;
  const why = `\n  ${story(run)}`;
  const finished = record?.history.find((rollout) => rollout.executionArn === run.executionArn);
  if (finished?.outcome === 'completed') return;
  const readsStart = PIN_WEIGHTS;
  for (const event of run.world.elb.log) {
    if (event.kind !== 'call' || event.caller !== 'swing' || event.outcome !== 'ok') continue;
    if (!event.sticky || !event.weights) continue;
    const from = event.operation === 'ModifyListener' ? run.starting : readsStart;
    expect(
      isIncrease(from, event.weights),
      `a sticky forward never sends clients to the target above the starting share (${event.operation} ${event.weights.source}/${event.weights.target}): a restore would leave them there${why}`,
    ).toBe(false);
  }
}

/**
 * A damaged record halts by name and leaves the listener alone, notifying: once a path that restores the starting
 * weights (Rollback, a rehearsal's restore, the safety net, the reconciler) meets the damaged record, Swing writes
 * neither the listener nor a rule, no function fails with a bare TypeError, the rollout is notified and the
 * listener stays as it was then. (A rollout that goes on forward reads no starting weights: it may complete.)
 */
export function expectDamagedRecordHalts(run: Run, record: ListenerRecord | undefined): void {
  const damage = run.fired.find(
    (fault) => fault.fault.kind === 'record-damage' && fault.outcome === 'damaged' && !fault.settled,
  );
  if (!damage || run.restorePathFrom === undefined) return;
  // A rollout Complete had decided is finished as completed (its pins removed): no starting weights are read.
  const finished = record?.history.find((rollout) => rollout.executionArn === run.executionArn);
  if (finished?.outcome === 'completed') return;
  // Released by `swing rollback --force --release-lock` (its own restore, before the damage was met): no halt.
  if (finished?.reason?.error === 'ForcedRollback' && finished.outcome === 'rolled-back') return;
  const why = `\n  ${story(run)}`;
  const from = Math.max(damage.elbLogAt, run.restorePathFrom);
  const log = run.world.elb.log;
  // A freeze is lifted all the same (I9, issue 22): it reads nothing of the record, and left it refuses writes.
  const freezeRules = new Set(
    (run.readsFirst?.created ?? [])
      .filter((rule) => isFreezePriority(rule.Priority))
      .map((rule) => rule.RuleArn),
  );
  // A hold after the cutover keeps its rules until the scroll keep-alive passed; the reconciler then sweeps them,
  // reading the cutover's time and settings, never the starting weights the damage took.
  const held = finished?.reason?.error === 'HeldAfterCutover' || finished?.exposure?.policy === 'hold';
  const writes = log
    .slice(from)
    .filter(
      (event, index) =>
        !isStaleFreezeRule(run.reverse, from + index, event) &&
        event.kind === 'call' &&
        event.caller === 'swing' &&
        event.outcome === 'ok' &&
        ['ModifyListener', 'CreateRule', 'ModifyRule', 'DeleteRule'].includes(event.operation) &&
        !(event.operation === 'DeleteRule' && (freezeRules.has(event.rule) || held)),
    );
  expect(writes, `no restore writes after the record was damaged${why}`).toEqual([]);
  if (run.result.status === 'FAILED') {
    expect(['TypeError', 'Error', 'States.Runtime'], `a named error${why}`).not.toContain(run.result.error);
  }
  for (const outcome of run.reconciled) {
    expect(outcome, `the reconciler fails with a named error${why}`).not.toMatch(/TypeError/);
  }
  expect(
    run.world.notifications.some((notification) => notification.executionArn === run.executionArn),
    `the rollout with a damaged record is notified${why}`,
  ).toBe(true);
}

/**
 * Reads-first: at no moment a read rule of Swing's is on the listener without every pin and `writes-to-source` in
 * front of it (a write a read pattern matches would reach the target before the cutover), whatever runs at once:
 * a step creating its rules, a stale attempt, `swing rollback --force`, a restore. Not judged once a rule of Swing's
 * was deleted by hand: the operator's doing.
 */
export function expectNoUnguardedReadRule(run: Run): void {
  // A forced rollback's removals are played as hand deletions too: those are judged.
  if (!run.readsFirst || run.fired.some((fault) => fault.fault.kind === 'rule-drift')) return;
  const why = `\n  ${story(run)}`;
  const roleAt = new Map(
    SWING_RULE_SET.map((spec) => [String(DEFAULT_READS_FIRST.basePriority + spec.offset), spec.role]),
  );
  const roleOf = new Map(
    run.readsFirst.created.map((rule) => [rule.RuleArn ?? '', roleAt.get(String(rule.Priority))]),
  );
  const guards = SWING_RULE_SET.filter((spec) => spec.role !== 'reads').length;
  const live = new Set<string>();
  for (const event of run.world.elb.log) {
    let rule: string;
    if (event.kind === 'call' && event.outcome === 'ok' && event.rule) {
      rule = event.rule;
      if (event.operation === 'CreateRule') live.add(rule);
      else if (event.operation === 'DeleteRule') live.delete(rule);
    } else if (event.kind === 'rule-hand' && event.weights === undefined) {
      rule = event.rule;
      live.delete(rule);
    } else {
      continue;
    }
    const roles = [...live].map((arn) => roleOf.get(arn));
    if (!roles.includes('reads')) continue;
    expect(
      roles.filter((role) => role !== undefined && role !== 'reads').length,
      `a read rule of Swing's is never on the listener without every pin and writes-to-source (after ${event.kind === 'call' ? event.operation : 'a hand deletion'} ${rule.slice(-4)})${why}`,
    ).toBe(guards);
  }
}

/**
 * `swing rollback --force` that acted while the rollout held the lock rolls that rollout back (issue 20, review 3):
 * the rollout does not complete, begins no step after it, and does not cut the writes over after it (a step's
 * write already under way may land: ELBv2 has no conditional write; it is not recorded, and the rollout's restore
 * removes it). Its halts and the rules it leaves are judged as any halt's: only after a real hand change.
 */
export function expectForcedRollbackRollsBack(run: Run, record: ListenerRecord | undefined): void {
  const why = `\n  ${story(run)}`;
  const forced = run.fired.find(
    (fired) =>
      fired.fault.kind === 'operator' &&
      fired.fault.command.startsWith('force') &&
      (fired.outcome ?? '').startsWith('restored') &&
      fired.record?.lockOwner === run.executionArn &&
      // Already restoring (Rollback, Rehearse): the rollout ends as that restore says.
      fired.record.rollout?.status !== 'rolling-back',
  );
  if (!forced) return;
  const rollout = [record?.rollout, ...(record?.history ?? [])].find(
    (candidate) => candidate?.executionArn === run.executionArn,
  );
  // A rehearsal's own end (Rehearse) restores the starting weights and removes Swing's rules as a rollback does:
  // after a forced rollback it ends as planned, `rehearsed`, having begun nothing after the command (checked below).
  const rehearsed = rollout?.outcome === 'rehearsed';
  if (!rehearsed) {
    expect(
      run.result.status,
      `a rollout rolled back by swing rollback --force does not succeed${why}`,
    ).not.toBe('SUCCEEDED');
  }
  expect(rollout?.outcome, `nor is it recorded as completed${why}`).not.toBe('completed');
  const begunAfter = (rollout?.steps ?? []).filter((step) => Date.parse(step.startedAt) > forced.firedAt);
  expect(begunAfter, `no step begins after swing rollback --force${why}`).toEqual([]);
  const cutoverAt = Date.parse(rollout?.cutoverStartedAt ?? '');
  expect(
    Number.isNaN(cutoverAt) || cutoverAt <= forced.firedAt,
    `the writes are not cut over after swing rollback --force${why}`,
  ).toBe(true);
}
