import { readFileSync } from 'node:fs';
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { type ReadsFirstDefaults, readsFirstDefaultsFromEnv } from '#commons/config.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { parseSmokeConfig, type SmokeConfig } from '#domain/smoke-config.ts';
import { CliFailure, ExitCodes } from './exit-codes.ts';
import { DEFAULT_SCHEDULE_GROUP, SETTING_FLAGS, type SettingKey } from './settings.ts';

/**
 * Where `swing` finds the deployed controller: a flag wins, else the CloudFormation output of the stack
 * (`--stack-name`, default `Swing`). The stack is described at most once per command, and only when a
 * value the command needs was not given as a flag.
 */

const ARN_PARTITION = 'arn:aws[a-z-]*';
const ARN_PATTERNS = {
  stateMachine: new RegExp(`^${ARN_PARTITION}:states:[a-z0-9-]+:\\d{12}:stateMachine:[A-Za-z0-9_.-]+$`),
  listener: new RegExp(
    `^${ARN_PARTITION}:elasticloadbalancing:[a-z0-9-]+:\\d{12}:listener/app/[^/]+/[^/]+/[^/]+$`,
  ),
  targetGroup: new RegExp(
    `^${ARN_PARTITION}:elasticloadbalancing:[a-z0-9-]+:\\d{12}:targetgroup/[^/]+/[^/]+$`,
  ),
  role: new RegExp(`^${ARN_PARTITION}:iam::\\d{12}:role/.+$`),
  queue: new RegExp(`^${ARN_PARTITION}:sqs:[a-z0-9-]+:\\d{12}:.+$`),
};

interface Setting<T> {
  readonly output: string;
  readonly flag: string;
  readonly description: string;
  /** Parses the text; `problem` gets a message naming what is wrong and what it should look like. */
  readonly parse: (text: string, problem: (message: string) => never) => T;
}

const arn =
  (pattern: RegExp, example: string) =>
  (text: string, problem: (message: string) => never): string => {
    if (!pattern.test(text.trim())) problem(`is '${text}', not ${example}`);
    return text.trim();
  };

const nonEmpty = (text: string, problem: (message: string) => never): string => {
  if (text.trim() === '') problem('is empty');
  return text.trim();
};

/** Inline JSON, or `@path/to/file.json`, for flags that take a document. */
function jsonText(text: string, problem: (message: string) => never): unknown {
  let raw = text;
  if (text.startsWith('@')) {
    try {
      raw = readFileSync(text.slice(1), 'utf8');
    } catch {
      problem(`names a file that cannot be read (${text.slice(1)})`);
    }
  }
  try {
    return JSON.parse(raw);
  } catch {
    return problem('is not valid JSON');
  }
}

export const SETTINGS = {
  stateMachineArn: {
    ...SETTING_FLAGS.stateMachineArn,
    parse: arn(
      ARN_PATTERNS.stateMachine,
      'a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)',
    ),
  },
  tableName: {
    ...SETTING_FLAGS.tableName,
    parse: nonEmpty,
  },
  listenerArn: {
    ...SETTING_FLAGS.listenerArn,
    parse: arn(
      ARN_PATTERNS.listener,
      'an ALB listener ARN (arn:aws:elasticloadbalancing:...:listener/app/...)',
    ),
  },
  sourceTargetGroupArn: {
    ...SETTING_FLAGS.sourceTargetGroupArn,
    parse: arn(
      ARN_PATTERNS.targetGroup,
      'a target group ARN (arn:aws:elasticloadbalancing:...:targetgroup/...)',
    ),
  },
  targetTargetGroupArn: {
    ...SETTING_FLAGS.targetTargetGroupArn,
    parse: arn(
      ARN_PATTERNS.targetGroup,
      'a target group ARN (arn:aws:elasticloadbalancing:...:targetgroup/...)',
    ),
  },
  watchedAlarms: {
    ...SETTING_FLAGS.watchedAlarms,
    parse: (text: string, problem: (message: string) => never): string[] => {
      const value = jsonText(text, problem);
      if (!Array.isArray(value) || !value.every((name) => typeof name === 'string' && name !== '')) {
        problem('must be a JSON array of alarm names, e.g. ["swing-target-5xx"]');
      }
      return value as string[];
    },
  },
  smokeConfig: {
    ...SETTING_FLAGS.smokeConfig,
    parse: (text: string, problem: (message: string) => never): SmokeConfig => {
      const value = jsonText(text, problem);
      try {
        return parseSmokeConfig(value, '');
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error;
        return problem(error.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '));
      }
    },
  },
  schedulerRoleArn: {
    ...SETTING_FLAGS.schedulerRoleArn,
    parse: arn(ARN_PATTERNS.role, 'an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)'),
  },
  scheduleGroupName: {
    ...SETTING_FLAGS.scheduleGroupName,
    parse: (text: string, problem: (message: string) => never): string => {
      if (!/^[0-9a-zA-Z_.-]{1,64}$/.test(text)) problem('must be 1-64 letters, digits, ".", "_" or "-"');
      return text;
    },
  },
  readsFirstDefaults: {
    ...SETTING_FLAGS.readsFirstDefaults,
    parse: (text: string, problem: (message: string) => never): ReadsFirstDefaults => {
      try {
        // The stack writes the same JSON into the preflight function's READS_FIRST_DEFAULTS: one parser for both.
        return readsFirstDefaultsFromEnv({ READS_FIRST_DEFAULTS: text });
      } catch (error) {
        if (!(error instanceof ValidationFailed)) throw error;
        return problem(error.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '));
      }
    },
  },
  replayLagAlarm: {
    ...SETTING_FLAGS.replayLagAlarm,
    parse: nonEmpty,
  },
  reverseLagAlarm: {
    ...SETTING_FLAGS.reverseLagAlarm,
    parse: nonEmpty,
  },
  scheduleDlqArn: {
    ...SETTING_FLAGS.scheduleDlqArn,
    parse: arn(ARN_PATTERNS.queue, 'an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)'),
  },
} satisfies Record<SettingKey, Setting<unknown>>;

export type StackConfig = { [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]['parse']> };

/** Flag values by setting key, as commander parsed them (camelCase of the flag). */
export type SettingFlags = Partial<Record<SettingKey, string>>;

/** Reads the stack's outputs as `{ OutputKey: OutputValue }`. */
export async function describeStackOutputs(
  client: CloudFormationClient,
  stackName: string,
): Promise<Record<string, string>> {
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    if (!stack) throw stackMissing(stackName);
    return Object.fromEntries(
      (stack.Outputs ?? []).flatMap((output) =>
        output.OutputKey && output.OutputValue !== undefined ? [[output.OutputKey, output.OutputValue]] : [],
      ),
    );
  } catch (error) {
    // CloudFormation says "Stack with id X does not exist" as a ValidationError.
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message)) {
      throw stackMissing(stackName);
    }
    throw error;
  }
}

/** The stack `--stack-name` names is not in this account and region. */
export class StackMissing extends CliFailure {}

function stackMissing(stackName: string): CliFailure {
  return new StackMissing(
    ExitCodes.BadInput,
    `stack '${stackName}' was not found in this account and region: pass --stack-name and --region ` +
      '(or --profile) of the deployed Swing stack, or deploy it first',
  );
}

export class ConfigResolver {
  private outputs?: Promise<Record<string, string>>;

  constructor(
    private readonly flags: SettingFlags,
    private readonly stackName: string,
    private readonly cloudFormation: () => CloudFormationClient,
  ) {}

  /** The settings a command needs; a missing or malformed one stops it before any AWS write. */
  async require<K extends SettingKey>(keys: readonly K[]): Promise<Pick<StackConfig, K>> {
    const resolved = {} as Pick<StackConfig, K>;
    for (const key of keys) {
      const value = await this.optional(key);
      if (value === undefined) {
        if (key === 'scheduleGroupName') {
          (resolved as Record<string, unknown>)[key] = DEFAULT_SCHEDULE_GROUP;
          continue;
        }
        const setting = SETTINGS[key];
        throw new CliFailure(
          ExitCodes.BadInput,
          `stack '${this.stackName}' has no output ${setting.output} (${setting.description}): pass ${setting.flag}, ` +
            'or redeploy a stack version that exports it',
        );
      }
      (resolved as Record<string, unknown>)[key] = value;
    }
    return resolved;
  }

  /**
   * A setting from its flag, or from the stack's outputs if they were read for another setting already; undefined
   * otherwise. For what only sharpens a check: it never costs a DescribeStacks of its own.
   */
  async known<K extends SettingKey>(key: K): Promise<StackConfig[K] | undefined> {
    if (this.flags[key] === undefined && this.outputs === undefined) return undefined;
    return this.optional(key);
  }

  /** An output that is no setting, if the stack's outputs were read already: it never costs a call of its own. */
  async knownOutput(outputKey: string): Promise<string | undefined> {
    return this.outputs === undefined ? undefined : (await this.outputs)[outputKey];
  }

  /** Whether the stack's outputs, read already, include this setting's: its stack version exports it. */
  async hasOutput(key: SettingKey): Promise<boolean> {
    if (this.outputs === undefined) return false;
    return (await this.outputs)[SETTINGS[key].output] !== undefined;
  }

  /** Parses every setting given as a flag: a malformed one stops the command, naming the flag, with no AWS call. */
  checkFlags(): void {
    for (const key of Object.keys(this.flags) as SettingKey[]) this.fromFlag(key);
  }

  /** A setting from its flag only, parsed; undefined without the flag. */
  fromFlag<K extends SettingKey>(key: K): StackConfig[K] | undefined {
    const setting: Setting<unknown> = SETTINGS[key];
    const flagValue = this.flags[key];
    if (flagValue === undefined) return undefined;
    return setting.parse(flagValue, (message) => {
      throw new CliFailure(ExitCodes.BadInput, `${setting.flag} ${message}: fix the flag`);
    }) as StackConfig[K];
  }

  /** A setting that may be absent (for example the schedule dead-letter queue). */
  async optional<K extends SettingKey>(key: K): Promise<StackConfig[K] | undefined> {
    const setting: Setting<unknown> = SETTINGS[key];
    if (this.flags[key] !== undefined) return this.fromFlag(key);
    this.outputs ??= describeStackOutputs(this.cloudFormation(), this.stackName);
    const outputValue = (await this.outputs)[setting.output];
    if (outputValue === undefined) return undefined;
    return setting.parse(outputValue, (message) => {
      throw new CliFailure(
        ExitCodes.BadInput,
        `stack '${this.stackName}' output ${setting.output} ${message}: pass ${setting.flag} or fix the stack`,
      );
    }) as StackConfig[K];
  }
}
