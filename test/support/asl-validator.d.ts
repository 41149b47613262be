declare module 'asl-validator' {
  /** Validates an ASL definition. Mutates its argument: pass a copy. */
  export default function aslValidator(definition: unknown): { isValid: boolean; errors: unknown[] };
}
