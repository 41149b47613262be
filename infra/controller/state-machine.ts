import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ASL_PATH, FUNCTION_PLACEHOLDERS } from '../../statemachine/definition.ts';
import type { HandlerName } from '../handler-functions.ts';

/**
 * The state machine of `statemachine/rollout.asl.json`, its task functions substituted in, with its log group
 * (`StateMachine`, `StateMachineLogs` under `scope`).
 */
export function rolloutStateMachine(
  scope: Construct,
  props: {
    readonly functions: Readonly<Record<HandlerName, lambda.IFunction>>;
    readonly prefix: string;
    readonly retention: logs.RetentionDays;
  },
): sfn.StateMachine {
  const { functions } = props;
  const stateMachineLogs = new logs.LogGroup(scope, 'StateMachineLogs', {
    // Under /aws/vendedlogs/ the log group's resource policy does not grow with every state machine.
    logGroupName: `/aws/vendedlogs/states/${props.prefix}-rollout`,
    retention: props.retention,
  });
  const definitionSubstitutions: Record<string, string> = {};
  for (const [placeholder, handler] of Object.entries(FUNCTION_PLACEHOLDERS)) {
    definitionSubstitutions[placeholder] = functions[handler].functionArn;
  }
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    comment: 'Swing: progressive traffic swing of the weighted listener from source to target',
    definitionBody: sfn.DefinitionBody.fromFile(ASL_PATH),
    definitionSubstitutions,
    stateMachineType: sfn.StateMachineType.STANDARD,
    tracingEnabled: true,
    // Every state change and error, without inputs and outputs: Bake's and Gate's parameters carry the task
    // token, which would sit in the logs as a credential for the open task.
    logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });
  // The seven task functions by their exact, unqualified ARNs: the ASL calls no version or alias.
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [...new Set(Object.values(FUNCTION_PLACEHOLDERS))].map(
        (handler) => functions[handler].functionArn,
      ),
    }),
  );
  // Covers the state machine's role policy only (acknowledgements apply to the construct's subtree).
  Validations.of(stateMachine).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'CDK grants these for state machine logging (logs:*LogDelivery*, DescribeResourcePolicies, ' +
      'DescribeLogGroups) and X-Ray tracing (xray:PutTraceSegments & co.): AWS supports only Resource "*" for them.',
  });
  return stateMachine;
}
