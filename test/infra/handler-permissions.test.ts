import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS } from '../../infra/controller/handler-access.ts';
import { HANDLER_NAMES, type HandlerName, handlerEntry } from '../../infra/handler-functions.ts';
import { exampleConfig, grantedStatements, handlerRoles, REPO_ROOT, synthSwing } from './stacks.ts';

/** IAM service prefix of each AWS SDK package the handlers import. */
const SERVICE_OF_PACKAGE: Record<string, string> = {
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-cloudwatch': 'cloudwatch',
  'client-dynamodb': 'dynamodb',
  'lib-dynamodb': 'dynamodb',
  'client-sfn': 'states',
  'client-sns': 'sns',
  'client-secrets-manager': 'secretsmanager',
};
/** The document client's commands are named after the item, the API after the action. */
const DOCUMENT_COMMAND_ACTION: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};
/**
 * In a bundled file but never sent by that handler: adapters are classes, and a handler uses some of their
 * methods. Each entry is a least-privilege decision; the engine tests prove the handler does not need it.
 */
const BUNDLED_NOT_CALLED: Partial<Record<HandlerName, string[]>> = {
  // alarm-event fails tokens, and succeeds only a wait for the replayer (StepFunctionsCallbacks.succeed). It
  // only reads the record (the open token), never updates it.
  'alarm-event': ['dynamodb:UpdateItem'],
  // AlbListener.writeWeights: preflight reads the starting weights, finalize the final ones; neither writes.
  preflight: ['elasticloadbalancing:ModifyListener'],
  finalize: ['elasticloadbalancing:ModifyListener', 'elasticloadbalancing:CreateRule'],
  // StepFunctionsCallbacks.fail: bake only succeeds a wait for the replayer that caught up; alarms fail tokens.
  bake: ['states:SendTaskFailure'],
  // AlbSwingRules.createRule: only read steps (shift-weights) create Swing's rules, and Freeze (the rollback
  // function) the freeze rules, only with reverse capture configured, whose stack grants it then. The reverse lag
  // check (CloudWatchReplayLag's DescribeAlarms) runs only then too (test/infra/reverse-lag-stack.test.ts).
  rollback: ['elasticloadbalancing:CreateRule', 'cloudwatch:DescribeAlarms'],
  'safety-net': ['elasticloadbalancing:CreateRule', 'cloudwatch:DescribeAlarms'],
  reconciler: ['elasticloadbalancing:CreateRule', 'cloudwatch:DescribeAlarms'],
};
/**
 * Granted without an SDK call in the code: the Lambda service, SNS encryption, the contract, or tag on create
 * (CreateRule with Tags is authorized on AddTags too).
 */
const GRANTED_WITHOUT_SDK_CALL =
  /^(logs:(CreateLogStream|PutLogEvents)|sqs:SendMessage|kms:(GenerateDataKey|Decrypt)|ec2:.*|elasticloadbalancing:(DescribeRules|AddTags))$/;

/**
 * With reverse capture configured, the rollback path freezes (CreateRule) and checks the reverse lag
 * (DescribeAlarms): BUNDLED_NOT_CALLED's entries for them no longer hold, and the stack grants them.
 */
const CALLED_WITH_REVERSE_CAPTURE: Partial<Record<HandlerName, string[]>> = {
  rollback: ['elasticloadbalancing:CreateRule', 'cloudwatch:DescribeAlarms'],
  'safety-net': ['elasticloadbalancing:CreateRule', 'cloudwatch:DescribeAlarms'],
  reconciler: ['elasticloadbalancing:CreateRule', 'cloudwatch:DescribeAlarms'],
};
/** The handlers that reverse capture gives variables or grants (ACCESS's reverseLag, freezeRules). */
const REVERSE_CAPTURE_HANDLERS = HANDLER_NAMES.filter(
  (name) => ACCESS[name].reverseLag !== undefined || ACCESS[name].freezeRules,
);

/** The IAM actions behind every `new XCommand(` in the project files a handler's bundle is built from. */
async function actionsInBundle(name: HandlerName): Promise<Set<string>> {
  const result = await build({
    entryPoints: [handlerEntry(name)],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  const actions = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs).filter((path) => path.startsWith('functions/'))) {
    const source = readFileSync(join(REPO_ROOT, input), 'utf8');
    const packageOf = new Map<string, string>();
    for (const [, names, pkg] of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/([a-z0-9-]+)'/g)) {
      for (const imported of names!.split(',')) packageOf.set(imported.replace(/\btype\b/, '').trim(), pkg!);
    }
    for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
      const pkg = packageOf.get(`${command}Command`);
      const service = pkg ? SERVICE_OF_PACKAGE[pkg] : undefined;
      if (!service)
        throw new Error(`${input}: map the package of ${command}Command (${pkg}) to its IAM service here`);
      const action = pkg === 'lib-dynamodb' ? DOCUMENT_COMMAND_ACTION[command!] : command;
      actions.add(`${service}:${action}`);
    }
  }
  return actions;
}

let bundled: Promise<Record<string, Set<string>>> | undefined;
/** Every handler's bundled calls, built once for both configs (ten esbuild bundles). */
function bundledCalls(): Promise<Record<string, Set<string>>> {
  bundled ??= (async () => {
    const calls: Record<string, Set<string>> = {};
    for (const name of HANDLER_NAMES) calls[name] = await actionsInBundle(name);
    return calls;
  })();
  return bundled;
}

/** What the handler calls under a config: its bundle less what it never sends there. */
function calledUnder(name: HandlerName, bundle: Set<string>, reverseCapture: boolean): Set<string> {
  const called = new Set(bundle);
  const sentAnyway = reverseCapture ? (CALLED_WITH_REVERSE_CAPTURE[name] ?? []) : [];
  for (const exempt of BUNDLED_NOT_CALLED[name] ?? [])
    if (!sentAnyway.includes(exempt)) called.delete(exempt);
  return called;
}

function grantedTo(template: Template): Record<string, Set<string>> {
  const roles = handlerRoles(template);
  const statements = grantedStatements(template);
  return Object.fromEntries(
    HANDLER_NAMES.map((name) => [
      name,
      new Set(statements.filter((s) => s.roles.includes(roles[name]!)).flatMap((s) => s.actions)),
    ]),
  );
}

describe('IAM: each handler may call exactly what its code calls', () => {
  let template: Template;
  const granted: Record<string, Set<string>> = {};
  const called: Record<string, Set<string>> = {};

  beforeAll(async () => {
    template = synthSwing(exampleConfig('example.config.json')).template;
    Object.assign(granted, grantedTo(template));
    const bundles = await bundledCalls();
    for (const name of HANDLER_NAMES) called[name] = calledUnder(name, bundles[name]!, false);
    // A synth and ten esbuild bundles: allow for a machine busy with the other test files.
  }, 120_000);

  it.each(HANDLER_NAMES)('grants %s every AWS call in its bundle', (name) => {
    const missing = [...called[name]!].filter((action) => !granted[name]!.has(action));
    expect(missing, `add these to ACCESS['${name}'] in infra/rollout-controller.ts`).toEqual([]);
  });

  it.each(HANDLER_NAMES)('grants %s nothing its code does not call', (name) => {
    const unused = [...granted[name]!].filter(
      (action) => !called[name]!.has(action) && !GRANTED_WITHOUT_SDK_CALL.test(action),
    );
    expect(unused).toEqual([]);
  });
});

describe('IAM with reverse capture (infra/example-eks.config.json): the drain and freeze calls are granted exactly', () => {
  const granted: Record<string, Set<string>> = {};
  const called: Record<string, Set<string>> = {};

  beforeAll(async () => {
    Object.assign(granted, grantedTo(synthSwing(exampleConfig('example-eks.config.json')).template));
    const bundles = await bundledCalls();
    for (const name of HANDLER_NAMES) called[name] = calledUnder(name, bundles[name]!, true);
  }, 120_000);

  it.each(REVERSE_CAPTURE_HANDLERS)('grants %s every AWS call in its bundle', (name) => {
    const missing = [...called[name]!].filter((action) => !granted[name]!.has(action));
    expect(missing, `add these to ACCESS['${name}'] in infra/controller/handler-access.ts`).toEqual([]);
  });

  it.each(REVERSE_CAPTURE_HANDLERS)('grants %s nothing its code does not call', (name) => {
    const unused = [...granted[name]!].filter(
      (action) => !called[name]!.has(action) && !GRANTED_WITHOUT_SDK_CALL.test(action),
    );
    expect(unused).toEqual([]);
  });
});
