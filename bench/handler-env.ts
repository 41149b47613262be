import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseSwingConfig } from '../infra/config.ts';
import { HANDLER_NAMES, type HandlerName, placeholderHandler } from '../infra/handler-functions.ts';
import { SwingStack } from '../infra/swing-stack.ts';

const REGION = 'us-east-1';
const ACCOUNT = '111111111111';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * Each handler's environment as the stack gives it (infra/example.config.json, synthesized without bundling),
 * with the references CloudFormation would fill in made into stand-ins of the same shape, plus what the Lambda
 * runtime adds (the region): the handlers check their environment when they load.
 */
export function stackHandlerEnvironments(): Record<HandlerName, Record<string, string>> {
  const config = parseSwingConfig(
    JSON.parse(
      readFileSync(new URL('../infra/example.config.json', import.meta.url), 'utf8'),
      (key, value) => (key === '$comment' ? undefined : value),
    ),
  );
  const stack = new SwingStack(new App(), config.stackName, { config, handlerFunction: placeholderHandler });
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const environments = {} as Record<HandlerName, Record<string, string>>;
  for (const name of HANDLER_NAMES) {
    const fn = Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' && resource.Properties?.Description === `Swing ${name}`,
    );
    if (!fn) throw new Error(`the synthesized stack has no function "Swing ${name}"`);
    const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    environments[name] = {
      ...Object.fromEntries(
        Object.entries(variables ?? {}).map(([key, value]) => [
          key,
          resolve(value, resources, `${name}: ${key}`),
        ]),
      ),
      AWS_REGION: REGION,
    };
  }
  return environments;
}

/** What CloudFormation makes of a value: `Ref` and `Fn::GetAtt ... Arn` as stand-ins, `Fn::Join` joined. */
function resolve(value: unknown, resources: Resources, where: string): string {
  if (typeof value === 'string') return value;
  const intrinsic = value as Record<string, unknown>;
  if (typeof intrinsic.Ref === 'string') {
    const id = intrinsic.Ref;
    if (id === 'AWS::Region') return REGION;
    if (id === 'AWS::AccountId') return ACCOUNT;
    if (id === 'AWS::Partition') return 'aws';
    if (id === 'AWS::URLSuffix') return 'amazonaws.com';
    // Ref gives an SNS topic's or an SQS queue's ARN (URL), every other resource here its name.
    const type = resources[id]?.Type;
    if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`;
    if (type === 'AWS::SQS::Queue') return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
    return id;
  }
  const getAtt = intrinsic['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn') {
    const type = String(resources[String(getAtt[0])]?.Type ?? 'AWS::Unknown::Resource');
    return `arn:aws:${type.split('::')[1]?.toLowerCase()}:${REGION}:${ACCOUNT}:${getAtt[0]}`;
  }
  const join = intrinsic['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return join[1].map((part) => resolve(part, resources, where)).join(join[0]);
  }
  throw new Error(
    `${where} is ${JSON.stringify(value)}, which the bench cannot stand in for: add it to bench/handler-env.ts`,
  );
}
