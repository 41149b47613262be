import { Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { replayLagMetric, reverseLagSettings, type ScheduleConfig, type SwingConfig } from '../config.ts';
import type { HandlerFunctionFactory } from '../handler-functions.ts';
import type { RolloutControllerProps } from '../rollout-controller.ts';
import type { ListenerPlacement } from './placement.ts';

export function scheduleExpression(schedule: ScheduleConfig): scheduler.ScheduleExpression {
  const zone = TimeZone.of(schedule.timezone);
  return schedule.cron !== undefined
    ? scheduler.ScheduleExpression.expression(`cron(${schedule.cron.trim()})`, zone)
    : scheduler.ScheduleExpression.expression(`at(${schedule.at})`, zone);
}

/** The config's smoke checks, with the endpoints of an ALB Swing created where the config names none. */
export function smokeSettings(config: SwingConfig, placement: ListenerPlacement) {
  return {
    ...config.smoke,
    sourceEndpoint: config.smoke.sourceEndpoint ?? placement.endpoints.source,
    targetEndpoint: config.smoke.targetEndpoint ?? placement.endpoints.target,
  };
}

/** The config as the controller's props, around the listener of `placement`. */
export function controllerProps(
  config: SwingConfig,
  placement: ListenerPlacement,
  handlerFunction: HandlerFunctionFactory | undefined,
): RolloutControllerProps {
  const smoke = smokeSettings(config, placement);
  const reverse = reverseLagSettings(config);
  return {
    ...placement.target,
    smoke: { ...smoke, sourceEndpoint: smoke.sourceEndpoint!, targetEndpoint: smoke.targetEndpoint! },
    smokeAccess: config.smokeAccess,
    smokeNetwork: placement.smokeNetwork,
    alarmThresholds: config.alarms,
    extraWatchedAlarmNames: config.alarms.extraWatchedAlarmNames,
    insufficientDataPolicy: config.insufficientDataPolicy,
    traffic: config.traffic,
    readsFirst: config.readsFirst,
    replayLag: replayLagMetric(config),
    // The config refuses a reverse capture whose metric nothing names.
    ...(reverse?.metric
      ? { reverseCapture: { metric: reverse.metric, drainTimeoutSeconds: reverse.drainTimeoutSeconds } }
      : {}),
    rollbackReservedConcurrency: config.rollbackReservedConcurrency,
    notificationEmails: config.notificationEmails,
    schedules: config.schedules.map((schedule) => ({
      name: schedule.name,
      expression: scheduleExpression(schedule),
      plan: schedule.plan,
      traffic: schedule.traffic,
      // biome-ignore lint/suspicious/noThenProperty: the execution input spells the plan's end `then`; never awaited.
      then: schedule.then,
      acceptWritesOnTarget: schedule.acceptWritesOnTarget,
      requestedBy: schedule.requestedBy,
      enabled: schedule.enabled,
      description: schedule.description,
    })),
    scheduleRetryAttempts: config.scheduleDelivery.retryAttempts,
    scheduleMaxDelay: Duration.seconds(config.scheduleDelivery.maxDelaySeconds),
    handlerFunction,
  };
}
