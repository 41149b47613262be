import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { withLibraryTimeoutPaths } from '#local/executor.ts';
import {
  FUNCTION_PLACEHOLDERS,
  loadDefinition,
  localFunctionArn,
  readDefinitionText,
} from '../../statemachine/definition.ts';

interface State {
  Type: string;
  Resource?: string;
  TimeoutSecondsPath?: string;
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: { FunctionName?: string };
}

const states = () => (loadDefinition(localFunctionArn) as { States: Record<string, State> }).States;

describe('statemachine/rollout.asl.json', () => {
  it('is valid Amazon States Language once its placeholders are substituted', () => {
    // asl-validator mutates its argument: give it a fresh copy.
    const { isValid, errors } = aslValidator(structuredClone(loadDefinition(localFunctionArn)));

    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it('uses only the function placeholders the CDK stack substitutes', () => {
    const placeholders = [...readDefinitionText().matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]);

    expect(new Set(placeholders)).toEqual(new Set(Object.keys(FUNCTION_PLACEHOLDERS)));
  });

  it('catches States.Timeout first on every task-token wait, so a clean bake is not mistaken for a failure', () => {
    const waits = Object.entries(states()).filter(([, state]) =>
      state.Resource?.endsWith('.waitForTaskToken'),
    );

    expect(waits.map(([name]) => name).sort()).toEqual([
      'Bake',
      'Drain',
      'Gate',
      'PauseHold',
      'WaitForReplay',
    ]);
    for (const [, state] of waits) {
      expect(state.Catch?.[0]?.ErrorEquals).toEqual(['States.Timeout']);
      expect(state.TimeoutSecondsPath).toMatch(/^\$\./);
    }
  });

  it('passes each wait timeout to the function too, which the local executor relies on', () => {
    expect(() => withLibraryTimeoutPaths(loadDefinition(localFunctionArn))).not.toThrow();
  });

  it('is JSONPath, not JSONata: the local executor would silently skip JSONata', () => {
    expect(readDefinitionText()).not.toMatch(/QueryLanguage|JSONata|\{%/);
  });
});
