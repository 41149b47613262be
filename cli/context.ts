import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { StepFunctionsCallbacks } from '#adapters/callbacks.ts';
import { AlbListener } from '#adapters/listener.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import type { OperatorDeps } from '#domain/operator.ts';
import type { ListenerTarget } from '#domain/types.ts';
import { ConfigResolver, type SettingFlags } from './config.ts';
import type { AwsClientOptions, AwsClients, CliDeps } from './deps.ts';
import { json } from './render.ts';
import { DEFAULT_STACK_NAME, SETTING_FLAGS, type SettingKey } from './settings.ts';

/** The options every command accepts (declared once, on the program). */
export interface GlobalOptions extends SettingFlags {
  readonly stackName?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly json?: boolean;
}

/** What one command run works with: output, the AWS clients and the resolved stack settings. */
export class CommandContext {
  readonly json: boolean;
  readonly config: ConfigResolver;
  readonly awsOptions: AwsClientOptions;
  private clientsCache?: AwsClients;

  constructor(
    readonly deps: CliDeps,
    readonly options: GlobalOptions,
  ) {
    this.json = options.json === true;
    this.awsOptions = {
      ...(options.region ? { region: options.region } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
    };
    const flags: SettingFlags = {};
    for (const key of Object.keys(SETTING_FLAGS) as SettingKey[]) {
      const value = options[key];
      if (value !== undefined) flags[key] = value;
    }
    this.config = new ConfigResolver(
      flags,
      options.stackName ?? DEFAULT_STACK_NAME,
      () => this.clients.cloudFormation,
    );
  }

  get clients(): AwsClients {
    this.clientsCache ??= this.deps.awsClients(this.awsOptions);
    return this.clientsCache;
  }

  /** Human text, unless `--json`. */
  say(text: string): void {
    if (!this.json) this.deps.stdout(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The command's result: JSON for scripts, else the human rendering. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.deps.stdout(json(value));
    else this.say(human());
  }

  /** A warning on stderr, so that it never corrupts `--json` on stdout. */
  warn(text: string): void {
    this.deps.stderr(text.endsWith('\n') ? text : `${text}\n`);
  }

  async store(): Promise<{ store: DynamoDbRolloutStore; listenerArn: string }> {
    const { tableName, listenerArn } = await this.config.require(['tableName', 'listenerArn']);
    return { store: new DynamoDbRolloutStore(this.clients.dynamo, tableName), listenerArn };
  }

  async listenerTarget(): Promise<ListenerTarget> {
    return this.config.require(['listenerArn', 'sourceTargetGroupArn', 'targetTargetGroupArn']);
  }

  async listener(): Promise<AlbListener> {
    return new AlbListener(this.clients.elbv2, await this.listenerTarget());
  }

  async alarms(): Promise<{ alarms: CloudWatchAlarms; names: readonly string[] }> {
    const { watchedAlarms } = await this.config.require(['watchedAlarms']);
    // Few tries: `status` reports what it reads now; an unreadable alarm is shown as such, not retried for long.
    return {
      alarms: new CloudWatchAlarms(this.clients.cloudWatch, { alarmNames: watchedAlarms, attempts: 2 }),
      names: watchedAlarms,
    };
  }

  async operator(): Promise<OperatorDeps> {
    const { store, listenerArn } = await this.store();
    return { listenerArn, store, callbacks: new StepFunctionsCallbacks(this.clients.sfn) };
  }
}
