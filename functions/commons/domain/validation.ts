import * as z from 'zod';
import { type FieldIssue, ValidationFailed } from './errors.ts';

/** Turns zod issues into field issues whose path reads like the input, e.g. `detail.state.value`. */
export function fieldIssuesFrom(error: z.ZodError, prefix: string): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.reduce<string>((acc, key) => {
      if (typeof key === 'number') return `${acc}[${key}]`;
      return acc === '' ? String(key) : `${acc}.${String(key)}`;
    }, prefix);
    return { field: path === '' ? '(input)' : path, message: issue.message };
  });
}

/**
 * A strict object whose own issues read well: an unknown key (a typo) is named with the keys that exist, taken
 * from the shape itself; anything else says what is expected, e.g. `must be an object like { ... }`.
 */
export function strictObjectOf<Shape extends z.core.$ZodLooseShape>(shape: Shape, expected: string) {
  const keys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has unknown key ${issue.keys.map((key) => `'${key}'`).join(', ')}: use only ${keys.join(', ')}`
        : `must be ${expected}`,
  });
}

/** Parses at the edge: inside, types are safe; outside, the error names the field and the fix. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, prefix = ''): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationFailed(fieldIssuesFrom(result.error, prefix));
  return result.data;
}
