import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import { Lexer, type Token } from 'marked';
import { describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The pages a reader gets: the README and every page under docs/. */
function docPages(): string[] {
  const docs = readdirSync(join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(REPO, 'docs', name));
  return [join(REPO, 'README.md'), ...docs];
}

/** Every token of a markdown document, tables and lists included. */
function allTokens(tokens: readonly Token[]): Token[] {
  const found: Token[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record.type === 'string') found.push(record as Token);
      for (const [key, child] of Object.entries(record)) if (key !== 'raw') visit(child);
    }
  };
  visit(tokens);
  return found;
}

/** A heading's text as GitHub renders it (code spans and links reduced to their text), before slugging. */
function plainText(token: Token): string {
  if ('tokens' in token && Array.isArray(token.tokens) && token.tokens.length > 0) {
    return token.tokens.map((child) => plainText(child)).join('');
  }
  return 'text' in token && typeof token.text === 'string' ? token.text : '';
}

/** The anchors GitHub gives a page's headings (github-slugger is the algorithm github.com uses). */
function anchorsOf(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  for (const token of allTokens(Lexer.lex(markdown))) {
    if (token.type === 'heading') anchors.add(slugger.slug(plainText(token)));
  }
  return anchors;
}

const TOP_LEVEL = new Set(readdirSync(REPO).filter((name) => name !== 'node_modules'));

/** A code span that names a repository path (`infra/app.ts`, `functions/*.ts`), as opposed to a command or key. */
function repositoryPathIn(code: string): string | undefined {
  if (!/^[\w.*-]+(\/[\w.*-]+)*\/?$/.test(code)) return undefined;
  const first = code.split('/')[0] ?? '';
  if (!TOP_LEVEL.has(first) || !code.includes('/')) return undefined;
  // A glob names the folder its files are in.
  return code.split('/*')[0];
}

/**
 * What is wrong with one page's references, one line per problem: a relative link to a missing file or outside
 * the repository, an `#anchor` no heading of the target has, a code span naming a repository path that does not
 * exist, or a `.md` file named anywhere (prose or code) that the repository does not have.
 */
function brokenReferences(page: string, markdown: string): string[] {
  const problems: string[] = [];
  const where = relative(REPO, page);
  for (const token of allTokens(Lexer.lex(markdown))) {
    if (token.type === 'link' || token.type === 'image') {
      const href: string = token.href;
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) {
        if (!/^(https?|mailto):/i.test(href))
          problems.push(`${where}: ${href} is not a link inside the repository`);
        continue;
      }
      const [pathPart = '', anchor] = href.split('#');
      if (pathPart === '') {
        if (anchor !== undefined && !anchorsOf(markdown).has(anchor))
          problems.push(`${where}: no heading ${href}`);
        continue;
      }
      const target = resolve(dirname(page), decodeURIComponent(pathPart));
      if (relative(REPO, target).startsWith('..') || pathPart.startsWith('/')) {
        problems.push(`${where}: ${href} points outside the repository`);
        continue;
      }
      if (!existsSync(target)) {
        problems.push(`${where}: ${href}: no file ${relative(REPO, target)}`);
        continue;
      }
      if (anchor !== undefined) {
        if (!target.endsWith('.md') || statSync(target).isDirectory()) {
          problems.push(`${where}: ${href}: an anchor needs a markdown page`);
        } else if (!anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
          problems.push(`${where}: ${href}: ${relative(REPO, target)} has no heading #${anchor}`);
        }
      }
    } else if (token.type === 'codespan') {
      const path = repositoryPathIn(token.text);
      if (path !== undefined && !existsSync(join(REPO, path))) {
        problems.push(`${where}: \`${token.text}\` names ${path}, which the repository does not have`);
      }
    }
  }
  for (const [name] of markdown.matchAll(/[\w./-]+\.md\b/g)) {
    const candidates = [resolve(dirname(page), name), join(REPO, name)];
    if (
      !candidates.some((candidate) => existsSync(candidate) && !relative(REPO, candidate).startsWith('..'))
    ) {
      problems.push(`${where}: names ${name}, which is not in the repository`);
    }
  }
  return problems;
}

describe('Docs: README.md and docs/*.md', () => {
  it('has the README and one page per concern', () => {
    // Assess
    expect(docPages().map((page) => relative(REPO, page))).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/cli.md',
        'docs/deploying.md',
        'docs/design.md',
        'docs/guarantees.md',
        'docs/local-mode.md',
      ]),
    );
  });

  it('resolves every relative link and #anchor, and names no file outside the repository', () => {
    // Act
    const problems = docPages().flatMap((page) => brokenReferences(page, readFileSync(page, 'utf8')));

    // Assess
    expect(problems).toEqual([]);
  });

  it('reaches every docs page from the README', () => {
    // Prepare
    const readme = join(REPO, 'README.md');
    const linked = allTokens(Lexer.lex(readFileSync(readme, 'utf8'))).flatMap((token) =>
      token.type === 'link' ? [resolve(REPO, token.href.split('#')[0] ?? '')] : [],
    );

    // Assess
    for (const page of docPages().filter((page) => page !== readme)) expect(linked).toContain(page);
  });

  it('reports a missing file, a missing anchor, a link out of the repository and a named file it lacks', () => {
    // Prepare
    const page = join(REPO, 'docs', 'sample.md');
    const markdown = [
      '# Sample',
      '[gone](missing.md) [anchor](design.md#no-such-heading) [here](#sample) [nowhere](#nowhere) [out](../../elsewhere/notes.md)',
      "DESIGN.md's invariants, `functions/commons/domain/nothing-here.ts`, `infra/app.ts`, `functions/*.ts`",
    ].join('\n');

    // Act
    const problems = brokenReferences(page, markdown);

    // Assess
    expect(problems).toEqual([
      'docs/sample.md: missing.md: no file docs/missing.md',
      'docs/sample.md: design.md#no-such-heading: docs/design.md has no heading #no-such-heading',
      'docs/sample.md: no heading #nowhere',
      'docs/sample.md: ../../elsewhere/notes.md points outside the repository',
      'docs/sample.md: `functions/commons/domain/nothing-here.ts` names functions/commons/domain/nothing-here.ts, which the repository does not have',
      'docs/sample.md: names missing.md, which is not in the repository',
      'docs/sample.md: names ../../elsewhere/notes.md, which is not in the repository',
      'docs/sample.md: names DESIGN.md, which is not in the repository',
    ]);
  });
});
