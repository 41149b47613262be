import { Duration } from 'aws-cdk-lib';
import { SHIFT_WEIGHTS_TIMEOUT_SECONDS } from '#domain/engine/stale-shift-window.ts';
import type { HandlerName } from '../handler-functions.ts';

/** The functions that put the listener back after an alarm, an abort or a stopped execution. */
export const ROLLBACK_PATH: readonly HandlerName[] = ['alarm-event', 'rollback', 'safety-net', 'reconciler'];

/** DynamoDbRolloutStore issues GetItem and conditional UpdateItem only. */
export const TABLE_READ = ['dynamodb:GetItem'];
export const TABLE_READ_WRITE = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];

/** What one handler calls: its role grants this and nothing else. */
export interface HandlerAccess {
  table: 'read' | 'read-write';
  describeElb?: readonly string[];
  modifyListener?: true;
  /**
   * Swing's own listener rules (reads-first): `read` finds them (by tag), `remove` also re-weights and deletes
   * them, `create` also creates them, tagged in the same call.
   */
  swingRules?: 'read' | 'remove' | 'create';
  describeAlarms?: true;
  /** cloudwatch:DescribeAlarms on the replay-lag alarm: the replay-lag check. */
  describeReplayLag?: true;
  /**
   * Reverse capture (when configured): `env` gets REVERSE_LAG_ALARM, REVERSE_LAG_MISSING_DATA and
   * REVERSE_DRAIN_TIMEOUT_SECONDS; `describe` also cloudwatch:DescribeAlarms on the reverse lag alarm.
   */
  reverseLag?: 'env' | 'describe';
  /** With reverse capture configured, swingRules is `create`: this function creates the freeze rules. */
  freezeRules?: true;
  /** states:SendTaskSuccess on this state machine: releases a step waiting for the replayer. */
  releaseReplayWait?: true;
  /**
   * cloudwatch:GetMetricData: the target groups' RequestCount, for the delivered split after a bake and the
   * requests the target took since the write cutover.
   */
  getMetricData?: true;
  publish?: true;
  failTasks?: true;
  /** states:DescribeExecution on this state machine's executions. */
  describeExecutions?: true;
  asyncFromEventBridge?: true;
  timeout: Duration;
}

/** Per handler: what it calls, and nothing else. */
export const ACCESS: Record<HandlerName, HandlerAccess> = {
  preflight: {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeRules', 'DescribeTargetHealth'],
    swingRules: 'read',
    describeAlarms: true,
    // The lossless verdict: is the reverse lag alarm there?
    reverseLag: 'describe',
    timeout: Duration.seconds(30),
  },
  'smoke-test': { table: 'read-write', timeout: Duration.seconds(60) },
  'shift-weights': {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    modifyListener: true,
    // Read steps create and move the read rules; the write cutover removes them.
    swingRules: 'create',
    describeAlarms: true,
    describeReplayLag: true,
    // Rollback outlasts a stale attempt of this function for exactly this long (a lost answer runs on).
    timeout: Duration.seconds(SHIFT_WEIGHTS_TIMEOUT_SECONDS),
  },
  'check-alarms': {
    table: 'read-write',
    describeAlarms: true,
    getMetricData: true,
    timeout: Duration.seconds(30),
  },
  bake: {
    table: 'read-write',
    describeAlarms: true,
    // A wait for the replayer checks once more after storing its token, and releases it if caught up.
    describeReplayLag: true,
    releaseReplayWait: true,
    // Drain checks the reverse lag once more after storing its token.
    reverseLag: 'describe',
    timeout: Duration.seconds(30),
  },
  'alarm-event': {
    table: 'read',
    failTasks: true,
    // The replay-lag alarm's return to OK releases the step waiting for the replayer.
    releaseReplayWait: true,
    // The reverse lag alarm's return to OK releases Drain.
    reverseLag: 'env',
    asyncFromEventBridge: true,
    timeout: Duration.seconds(30),
  },
  rollback: {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    modifyListener: true,
    swingRules: 'remove',
    // Freeze and DrainCheck run on this function.
    reverseLag: 'describe',
    freezeRules: true,
    // The requests the target took since the write cutover: the write-exposure report.
    getMetricData: true,
    // Room to outlast a stale ShiftWeights attempt (SHIFT_WEIGHTS_TIMEOUT_SECONDS) and restore once more.
    timeout: Duration.seconds(SHIFT_WEIGHTS_TIMEOUT_SECONDS * 2),
  },
  finalize: {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    // The scroll pins go when the cutover's bake ends, not while a watched alarm fires (a raise of pinned reads).
    swingRules: 'remove',
    describeAlarms: true,
    publish: true,
    timeout: Duration.seconds(30),
  },
  'safety-net': {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    modifyListener: true,
    swingRules: 'remove',
    // It freezes and drains itself when no Rollback did.
    reverseLag: 'describe',
    freezeRules: true,
    // The requests the target took since the write cutover, when it restores after one: the write exposure.
    getMetricData: true,
    publish: true,
    // After its wait: an execution redriven meanwhile is left to its own paths.
    describeExecutions: true,
    asyncFromEventBridge: true,
    // It first waits out tasks of the stopped execution that may still act (SAFETY_NET_WAIT_SECONDS, 75 s).
    timeout: Duration.seconds(150),
  },
  reconciler: {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    modifyListener: true,
    swingRules: 'remove',
    reverseLag: 'describe',
    freezeRules: true,
    getMetricData: true,
    publish: true,
    describeExecutions: true,
    asyncFromEventBridge: true,
    // It never sleeps through the safety net's wait (the next run acts): one restore, with its retries.
    timeout: Duration.seconds(60),
  },
};

/** Finding Swing's rules: the rules, then their tags (ELBv2 lists no tags with DescribeRules). */
export const SWING_RULES_DESCRIBE = ['DescribeRules', 'DescribeTags'];
