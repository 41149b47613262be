import { describe, expect, it } from 'vitest';
import { readIamPage } from '#test/cli/iam-page.ts';
import { iamActionsOf } from '#test/cli/sdk-calls.ts';
import { cliCommands } from '#test/support/cli-commands.ts';

describe('Docs: docs/iam.md', () => {
  it('has one row per command of the CLI, and no row for a command it does not have', () => {
    // Prepare
    const commands = cliCommands();

    // Act
    const { rows } = readIamPage();

    // Assess
    expect([...rows.keys()].sort()).toEqual([...commands].sort());
  });

  it('gives a policy that grants exactly the actions of the table, each once', () => {
    // Act
    const { rows, policy } = readIamPage();

    // Assess
    const granted = policy.Statement.flatMap((statement) => statement.Action);
    const listed = new Set([...rows.values()].flatMap((row) => [...row.actions]));
    expect([...granted].sort()).toEqual([...listed].sort());
  });

  it("reads a row's actions and the commands whose actions it adds, and refuses a row without a command", () => {
    // Prepare
    const page = (row: string) =>
      ['| command | IAM actions |', '|---|---|', row, '', '```json', '{ "Statement": [] }', '```'].join('\n');

    // Act
    const { rows } = readIamPage(
      page(
        '| `swing abort` | `dynamodb:UpdateItem` `states:SendTaskFailure`; with `--watch`, also what `swing status` needs |',
      ),
    );

    // Assess
    expect(rows.get('swing abort')).toEqual({
      actions: new Set(['dynamodb:UpdateItem', 'states:SendTaskFailure']),
      alsoNeeds: ['swing status'],
    });
    expect(() => readIamPage(page('| abort | `states:SendTaskFailure` |'))).toThrow('a row names no command');
  });

  it('maps SDK commands to the IAM actions they need, the document client and passed roles included', () => {
    // Assess
    expect(iamActionsOf('elbv2', 'DescribeListenersCommand')).toEqual([
      'elasticloadbalancing:DescribeListeners',
    ]);
    expect(iamActionsOf('sfn', 'SendTaskFailureCommand')).toEqual(['states:SendTaskFailure']);
    expect(iamActionsOf('dynamo', 'GetCommand')).toEqual(['dynamodb:GetItem']);
    expect(iamActionsOf('dynamo', 'UpdateCommand')).toEqual(['dynamodb:UpdateItem']);
    expect(iamActionsOf('dynamo', 'QueryCommand')).toEqual(['dynamodb:Query']);
    expect(iamActionsOf('scheduler', 'CreateScheduleCommand')).toEqual([
      'scheduler:CreateSchedule',
      'iam:PassRole',
    ]);
  });
});
