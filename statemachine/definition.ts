import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The one ASL file: CDK deploys it, the tests and the local mode execute it. The path is taken from one folder
 * below the package root, where the built dist/*.js sit too (scripts/build.ts).
 */
export const ASL_PATH = fileURLToPath(new URL('../statemachine/rollout.asl.json', import.meta.url));

/** ASL placeholder -> the handler (functions/<name>.ts) whose ARN replaces it. */
export const FUNCTION_PLACEHOLDERS = {
  PreflightFunctionArn: 'preflight',
  SmokeTestFunctionArn: 'smoke-test',
  ShiftWeightsFunctionArn: 'shift-weights',
  BakeFunctionArn: 'bake',
  CheckAlarmsFunctionArn: 'check-alarms',
  RollbackFunctionArn: 'rollback',
  FinalizeFunctionArn: 'finalize',
} as const;
export type FunctionPlaceholder = keyof typeof FUNCTION_PLACEHOLDERS;

export function readDefinitionText(): string {
  return readFileSync(ASL_PATH, 'utf8');
}

/** The definition with `${...}` placeholders replaced, as `definitionSubstitutions` does in AWS. */
export function loadDefinition(
  arnFor: (placeholder: FunctionPlaceholder) => string,
): Record<string, unknown> {
  const text = readDefinitionText().replace(/\$\{(\w+)\}/g, (match, name: string) => {
    if (!(name in FUNCTION_PLACEHOLDERS)) throw new Error(`unknown placeholder ${match} in ${ASL_PATH}`);
    return arnFor(name as FunctionPlaceholder);
  });
  return JSON.parse(text) as Record<string, unknown>;
}

export function localFunctionArn(placeholder: FunctionPlaceholder): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:swing-${FUNCTION_PLACEHOLDERS[placeholder]}`;
}
