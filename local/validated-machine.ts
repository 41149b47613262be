import { StateMachine } from 'aws-local-stepfunctions';

/** Definition text -> the definition as asl-validator left it (it adds each state's QueryLanguage). */
const validated = new Map<string, string>();

/**
 * A state machine for `definition`, validated (ARNs and paths checked) the first time this process sees that
 * definition. Validating compiles asl-validator's JSON schemas anew on every call, far slower than a short
 * rollout, and tests build an executor per world: a definition already accepted is not validated again, and
 * runs as the validated copy, so both ways execute the same object.
 */
export function validatedStateMachine(definition: Record<string, unknown>): StateMachine {
  const text = JSON.stringify(definition);
  const accepted = validated.get(text);
  if (accepted !== undefined)
    return new StateMachine(JSON.parse(accepted), { validationOptions: { noValidate: true } });
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  // The machine keeps (and validation changed) this very object.
  validated.set(text, JSON.stringify(definition));
  return machine;
}
