import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import { Lexer, type Token } from 'marked';
import { describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GLOSSARY = join(REPO, 'docs', 'glossary.md');

/** The terms a reader meets before they are explained, as each page may write them, by glossary heading. */
const TERMS: Record<string, RegExp> = {
  'Task token': /\btask tokens?\b/i,
  Preflight: /\bpreflight\b/i,
  Lock: /\block\b/i,
  'Safety net': /\bsafety net\b/i,
  Reconciler: /\breconciler\b/i,
  // The rules, not the verb (`swing init` pins a certificate).
  Pins: /\bthe pins\b/i,
  'Scroll keep-alive': /\bscroll keep-alive\b/i,
  'Write cutover': /\b(write )?cutover\b/i,
  Bake: /\bbak(e|es|ed|ing)\b/i,
  Gate: /\bgates?\b/i,
  'Starting weights': /\bstarting weights\b/i,
  Drift: /\bdrift\b/i,
  Exposure: /\bexposure\b/i,
};

interface Prose {
  readonly text: string;
  /** The link the text is in, if any. */
  readonly href?: string;
  /** In bold: the page defines the word here itself. */
  readonly bold: boolean;
}

/**
 * A page's prose in reading order, each piece with the link it sits in and whether it is bold; code, headings and
 * HTML left out.
 */
function prose(tokens: readonly unknown[], href?: string, bold = false): Prose[] {
  const pieces: Prose[] = [];
  for (const item of tokens) {
    const token = item as Token & {
      tokens?: Token[];
      items?: unknown[];
      header?: unknown[];
      rows?: unknown[][];
    };
    if (['code', 'codespan', 'heading', 'html'].includes(token.type)) continue;
    const inside = token.type === 'link' ? (token as { href: string }).href : href;
    const children = [
      ...(token.tokens ?? []),
      ...(token.items ?? []),
      ...(token.type === 'table' ? [...(token.header ?? []), ...(token.rows ?? []).flat()] : []),
    ];
    if (children.length > 0) pieces.push(...prose(children, inside, bold || token.type === 'strong'));
    else if ((token.type === 'text' || token.type === 'escape') && typeof token.text === 'string') {
      pieces.push({ text: token.text, bold, ...(inside !== undefined ? { href: inside } : {}) });
    }
  }
  return pieces;
}

/**
 * Where a page's first use of each term is neither a link to the term's glossary entry nor in bold (the page's
 * own definition of it), one line each.
 */
function unlinkedFirstUses(page: string, markdown: string): string[] {
  const glossary = `${page.startsWith('docs/') ? '' : 'docs/'}glossary.md`;
  const slugger = new GithubSlugger();
  const pieces = prose(Lexer.lex(markdown));
  return Object.entries(TERMS).flatMap(([term, pattern]) => {
    const anchor = slugger.slug(term);
    const first = pieces.find((piece) => pattern.test(piece.text));
    if (!first || first.bold || first.href === `${glossary}#${anchor}`) return [];
    const at = first.text.search(pattern);
    return [
      `${page}: "${first.text.slice(Math.max(0, at - 30), at + 40)}" uses "${term}" first: link it to ${glossary}#${anchor}`,
    ];
  });
}

function pages(): string[] {
  const docs = readdirSync(join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md') && name !== 'glossary.md')
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

describe('Docs: the glossary', () => {
  it('has an entry for every term the pages must link', () => {
    // Prepare
    const slugger = new GithubSlugger();
    const headings = Lexer.lex(readFileSync(GLOSSARY, 'utf8')).flatMap((token) =>
      token.type === 'heading' ? [slugger.slug(token.text)] : [],
    );

    // Assess
    const anchors = new GithubSlugger();
    expect(headings).toEqual(expect.arrayContaining(Object.keys(TERMS).map((term) => anchors.slug(term))));
  });

  it('is linked from every page at the first use of each of its terms', () => {
    // Act
    const problems = pages().flatMap((page) =>
      unlinkedFirstUses(page, readFileSync(join(REPO, page), 'utf8')),
    );

    // Assess
    expect(problems).toEqual([]);
  });

  it('finds a first use outside a link, in a table or a list, and not in code or headings', () => {
    // Prepare
    const markdown = [
      '# The lock and the gate',
      'Run `swing promote` at the [gate](glossary.md#gate).',
      '',
      '| column |',
      '|---|',
      '| the safety net acts |',
      '',
      '- the [lock](design.md) and the **reconciler**',
      '',
      '```',
      'bake',
      '```',
    ].join('\n');

    // Act
    const problems = unlinkedFirstUses('docs/sample.md', markdown);

    // Assess
    expect(problems).toEqual([
      'docs/sample.md: "lock" uses "Lock" first: link it to glossary.md#lock',
      'docs/sample.md: "the safety net acts" uses "Safety net" first: link it to glossary.md#safety-net',
    ]);
  });
});
