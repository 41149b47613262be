import { readFileSync } from 'node:fs';
import { Lexer, type Tokens } from 'marked';

export const IAM_PAGE = new URL('../../docs/iam.md', import.meta.url);

const ACTION = /^[a-z0-9-]+:[A-Za-z]+$/;
const COMMAND = /^swing [a-z -]+$/;

/** One row of docs/iam.md's table: the actions a command sends, and the commands whose actions it adds. */
export interface IamRow {
  readonly actions: ReadonlySet<string>;
  /** `with --watch, also what swing status needs`: the other command's actions, allowed but not its own. */
  readonly alsoNeeds: readonly string[];
}

function codeSpans(cell: Tokens.TableCell): string[] {
  return cell.tokens.flatMap((token) => (token.type === 'codespan' ? [(token as Tokens.Codespan).text] : []));
}

/** docs/iam.md's per-command table, by command (`swing schedule add`), and its policy JSON. */
export function readIamPage(markdown = readFileSync(IAM_PAGE, 'utf8')): {
  rows: Map<string, IamRow>;
  policy: { Statement: { Action: string[] }[] };
} {
  const tokens = Lexer.lex(markdown);
  const table = tokens.find(
    (token): token is Tokens.Table => token.type === 'table' && token.header[0]?.text === 'command',
  );
  if (!table) throw new Error('docs/iam.md has no table whose first column is "command"');
  const rows = new Map<string, IamRow>();
  for (const [commandCell, actionsCell] of table.rows) {
    const [command] = codeSpans(commandCell!);
    if (!command || !COMMAND.test(command))
      throw new Error(`docs/iam.md: a row names no command: ${commandCell?.text}`);
    const spans = codeSpans(actionsCell!);
    rows.set(command, {
      actions: new Set(spans.filter((span) => ACTION.test(span))),
      alsoNeeds: spans.filter((span) => COMMAND.test(span)),
    });
  }
  const json = tokens.find((token): token is Tokens.Code => token.type === 'code' && token.lang === 'json');
  if (!json) throw new Error('docs/iam.md has no ```json policy');
  return { rows, policy: JSON.parse(json.text) };
}

/** What a command may send according to the page: its own actions and those of the commands it also needs. */
export function allowedActions(rows: ReadonlyMap<string, IamRow>, command: string): Set<string> {
  const row = rows.get(command);
  if (!row) return new Set();
  return new Set([
    ...row.actions,
    ...row.alsoNeeds.flatMap((other) => [...(rows.get(other)?.actions ?? [])]),
  ]);
}
