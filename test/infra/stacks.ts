import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseSwingConfig, type SwingConfig } from '../../infra/config.ts';
import { type HandlerFunctionFactory, placeholderHandler } from '../../infra/handler-functions.ts';
import { SwingStack } from '../../infra/swing-stack.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Json = Record<string, unknown>;

/** An example config file as an object, `$comment` keys removed, optionally changed by `patch`. */
export function exampleConfigInput(file: string, patch: (raw: Json) => void = () => {}): Json {
  const raw = JSON.parse(readFileSync(`${REPO_ROOT}infra/${file}`, 'utf8'), (key, value) =>
    key === '$comment' ? undefined : value,
  ) as Json;
  patch(raw);
  return raw;
}

export function exampleConfig(file: string, patch?: (raw: Json) => void): SwingConfig {
  return parseSwingConfig(exampleConfigInput(file, patch));
}

export interface SynthesizedSwing {
  readonly app: App;
  readonly stack: SwingStack;
  readonly template: Template;
  /** Context lookups the synth asked for: each one would need AWS credentials in `cdk synth`. */
  readonly missingContext: string[];
}

/** Synthesizes the app's stack; by default without bundling (the template is otherwise the deployed one). */
export function synthSwing(
  config: SwingConfig,
  handlerFunction: HandlerFunctionFactory = placeholderHandler,
): SynthesizedSwing {
  const app = new App();
  const stack = new SwingStack(app, config.stackName, { config, handlerFunction });
  const template = Template.fromStack(stack);
  const missingContext = (app.synth().manifest.missing ?? []).map((missing) => missing.key);
  return { app, stack, template, missingContext };
}

/** The AwsSolutions pack over the whole app, as `cdk synth` runs it. */
export function nagViolations(scope: IConstruct) {
  return new AwsSolutionsChecks(scope, { verbose: true }).validateScope(scope).violations;
}

/** Every acknowledged rule in the tree, with the reason written next to it in code. */
export function acknowledgements(scope: IConstruct): { path: string; id: string; reason: string }[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

export interface GrantedStatement {
  readonly policy: string;
  readonly roles: string[];
  readonly actions: string[];
  readonly resources: unknown[];
  readonly statement: Json;
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every Allow statement of every IAM policy, with the logical ids of the roles it is attached to. */
export function grantedStatements(template: Template): GrantedStatement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, { Properties: Json }>;
  return Object.entries(policies).flatMap(([policy, resource]) => {
    const roles = asArray(resource.Properties.Roles as { Ref: string }[]).map((role) => role.Ref);
    const document = resource.Properties.PolicyDocument as { Statement: Json[] };
    return document.Statement.filter((statement) => statement.Effect === 'Allow').map((statement) => ({
      policy,
      roles,
      actions: asArray(statement.Action as string | string[]),
      resources: asArray(statement.Resource),
      statement,
    }));
  });
}

/** Logical id of each handler's role, from the functions' `Role` attribute and description `Swing <name>`. */
export function handlerRoles(template: Template): Record<string, string> {
  const functions = template.findResources('AWS::Lambda::Function') as Record<string, { Properties: Json }>;
  const roles: Record<string, string> = {};
  for (const resource of Object.values(functions)) {
    const name = String(resource.Properties.Description).replace(/^Swing /, '');
    roles[name] = (resource.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  }
  return roles;
}

/** The handler's function properties, found by its description. */
export function handlerFunction(template: Template, name: string): Json {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: `Swing ${name}` },
  }) as Record<string, { Properties: Json }>;
  const [resource] = Object.values(functions);
  if (!resource) throw new Error(`no function for handler ${name}`);
  return resource.Properties;
}
