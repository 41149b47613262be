/**
 * The stack outputs that configure the CLI, each of which a flag can replace: what every `--help` shows. Their
 * parsers, and the reading of the outputs, are in cli/config.ts, loaded when a command runs.
 */

export const DEFAULT_STACK_NAME = 'Swing';
export const DEFAULT_SCHEDULE_GROUP = 'default';

export const SETTING_FLAGS = {
  stateMachineArn: {
    output: 'StateMachineArn',
    flag: '--state-machine-arn',
    description: 'the rollout state machine',
  },
  tableName: {
    output: 'TableName',
    flag: '--table-name',
    description: 'the DynamoDB table with the listener lock and rollout history',
  },
  listenerArn: {
    output: 'ListenerArn',
    flag: '--listener-arn',
    description: 'the weighted listener (443 on the Migration Assistant)',
  },
  sourceTargetGroupArn: {
    output: 'SourceTargetGroupArn',
    flag: '--source-target-group-arn',
    description: 'the Capture Proxy (source) target group',
  },
  targetTargetGroupArn: {
    output: 'TargetTargetGroupArn',
    flag: '--target-target-group-arn',
    description: 'the Target Cluster Proxy target group',
  },
  watchedAlarms: {
    output: 'WatchedAlarms',
    flag: '--watched-alarms',
    description: 'JSON array of the alarm names the rollout watches',
  },
  smokeConfig: {
    output: 'SmokeConfig',
    flag: '--smoke-config',
    description: 'the smoke checks as JSON (or @file.json)',
  },
  schedulerRoleArn: {
    output: 'SchedulerRoleArn',
    flag: '--scheduler-role-arn',
    description: 'the IAM role EventBridge Scheduler uses to start the state machine',
  },
  scheduleGroupName: {
    output: 'ScheduleGroupName',
    flag: '--schedule-group-name',
    description: `the EventBridge Scheduler group (default '${DEFAULT_SCHEDULE_GROUP}')`,
  },
  readsFirstDefaults: {
    output: 'ReadsFirstDefaults',
    flag: '--reads-first-defaults',
    description: "the stack's traffic mode and reads-first settings, as JSON",
  },
  replayLagAlarm: {
    output: 'ReplayLagAlarm',
    flag: '--replay-lag-alarm',
    description: 'the alarm on the replayer lag that reads-first steps wait for',
  },
  reverseLagAlarm: {
    output: 'ReverseLagAlarm',
    flag: '--reverse-lag-alarm',
    description: 'the alarm on the reverse replayer lag that a rollback after the write cutover drains on',
  },
  scheduleDlqArn: {
    output: 'ScheduleDlqArn',
    flag: '--schedule-dlq-arn',
    description: 'the SQS queue that gets scheduled starts Scheduler could not deliver',
  },
} as const;

export type SettingKey = keyof typeof SETTING_FLAGS;
