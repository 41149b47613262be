import { readFileSync } from 'node:fs';
import { Lexer, type Tokens } from 'marked';
import { describe, expect, it } from 'vitest';
import { cliCommands } from '#test/support/cli-commands.ts';

const PAGE = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');

/** Each `#### ...` section of the page: its heading and how many lines it runs to the next heading. */
function commandSections(markdown: string): { heading: string; lines: number }[] {
  const sections: { heading: string; lines: number }[] = [];
  let current: { heading: string; lines: number } | undefined;
  let inCode = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    if (!inCode && /^#{1,6} /.test(line)) {
      current = line.startsWith('#### ') ? { heading: line.slice(5), lines: 0 } : undefined;
      if (current) sections.push(current);
    } else if (current) current.lines += 1;
  }
  return sections;
}

describe('Docs: docs/cli.md', () => {
  it('gives every command of the CLI a section of its own, of 20 lines at most', () => {
    // Act
    const sections = commandSections(PAGE);

    // Assess
    const withoutSection = cliCommands().filter(
      (command) => !sections.some((section) => section.heading.includes(`\`${command}`)),
    );
    expect(withoutSection).toEqual([]);
    expect(sections.filter((section) => section.lines > 20)).toEqual([]);
  });

  it('keeps every table cell to 30 words: longer explanations have sections of their own', () => {
    // Act
    const cells = Lexer.lex(PAGE)
      .filter((token): token is Tokens.Table => token.type === 'table')
      .flatMap((table) => [...table.header, ...table.rows.flat()])
      .map((cell) => cell.text);

    // Assess
    expect(cells.filter((text) => text.split(/\s+/).length > 30)).toEqual([]);
  });
});
