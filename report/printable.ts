import stripAnsi from 'strip-ansi';

/**
 * Text from outside Swing (alarm state reasons, rule names and conditions, execution names, notification and
 * error text, anything read back from the record) is printed as text by the CLI and the live view: an escape
 * sequence in it could erase lines or draw fake weights on the operator's terminal. strip-ansi removes whole
 * ANSI sequences (CSI, OSC, ...); what control characters are left (C0, DEL, C1: a lone ESC, a carriage return,
 * a backspace) and the bidirectional overrides that reorder what is shown go too. Line breaks and tabs become
 * spaces: each external string is one field of one line. `--json` keeps the data as it is (JSON escapes it).
 */

const WHITESPACE_CONTROLS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
const CONTROLS = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function printable(text: string): string {
  return stripAnsi(text).replace(WHITESPACE_CONTROLS, ' ').replace(CONTROLS, '');
}

/** `value` with every string in it (in plain objects and arrays, at any depth) made printable. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map(printableDeep) as T;
  if (value === null || typeof value !== 'object') return value;
  const prototype = Object.getPrototypeOf(value);
  // Dates, errors and other class instances are not data from outside: left as they are.
  if (prototype !== Object.prototype && prototype !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, printableDeep(entry)])) as T;
}
