import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The house's limits, checked from the code's own imports and definitions (`npm run lint` runs it):
 * - no source file over MAX_FILE_LINES lines;
 * - no function over MAX_FUNCTION_LINES lines, a nested callback measured as a function of its own;
 * - no import circle, type-only imports included (a circle of types is still two rooms that need each other);
 * - no import from a lower layer into a higher one (LAYERS).
 * Tests, test support and generated files are not measured; bench/ and scripts/ are measured but stand above
 * every layer: they may import anything and nothing imports them.
 *
 * `KNOWN` lists the violations that stood when the limits came, each with the size it had: one may shrink or
 * go, never grow, and nothing new may join it. `--list` prints every violation with its size.
 */
export const MAX_FILE_LINES = 600;
export const MAX_FUNCTION_LINES = 150;

/**
 * Higher numbers stand higher: a file may import its own layer or any lower one. The first prefix that
 * matches a file's path (relative to the root, with `/`) gives its layer.
 */
export const LAYERS: readonly { readonly prefix: string; readonly layer: number; readonly name: string }[] = [
  { prefix: 'bench/', layer: 9, name: 'bench' },
  { prefix: 'scripts/', layer: 9, name: 'scripts' },
  { prefix: 'bin/', layer: 8, name: 'bin' },
  { prefix: 'cli/', layer: 7, name: 'cli' },
  { prefix: 'local/', layer: 6, name: 'local' },
  { prefix: 'infra/', layer: 6, name: 'infra' },
  { prefix: 'report/', layer: 5, name: 'report' },
  { prefix: 'functions/commons/domain/', layer: 2, name: 'domain' },
  { prefix: 'functions/commons/', layer: 3, name: 'commons' },
  { prefix: 'functions/', layer: 4, name: 'handlers' },
  { prefix: 'statemachine/', layer: 1, name: 'statemachine' },
];

export const SOURCE_ROOTS = [
  'bin',
  'cli',
  'local',
  'infra',
  'report',
  'functions',
  'statemachine',
  'scripts',
  'bench',
];

export interface Violation {
  readonly kind: 'file-lines' | 'function-lines' | 'circle' | 'layer';
  /** Stable across edits that keep the violation (no line numbers): what KNOWN is keyed by. */
  readonly key: string;
  /** The size for the two line limits; 0 otherwise. */
  readonly size: number;
  readonly message: string;
}

export interface SourceFile {
  /** Relative to the root, with `/`. */
  readonly path: string;
  readonly text: string;
}

export function layerOf(path: string): { layer: number; name: string } | undefined {
  return LAYERS.find((entry) => path.startsWith(entry.prefix));
}

function lineCount(text: string): number {
  if (text.length === 0) return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function functionName(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (ts.isConstructorDeclaration(node)) {
    const owner = node.parent as ts.ClassLikeDeclaration;
    return `${owner.name?.getText(source) ?? '(class)'}.constructor`;
  }
  if (named.name) {
    const owner = ts.isClassLike(node.parent) ? `${node.parent.name?.getText(source) ?? '(class)'}.` : '';
    return owner + named.name.getText(source);
  }
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText(source);
  if (ts.isCallExpression(parent)) {
    const callee = parent.expression.getText(source).replace(/\s+/g, ' ');
    return `(callback of ${callee.length > 40 ? `${callee.slice(0, 40)}…` : callee})`;
  }
  return '(anonymous)';
}

/** Every function-like node whose span is over the limit, by its full span (nested functions included). */
export function longFunctions(file: SourceFile, max = MAX_FUNCTION_LINES): Violation[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
  const found: Violation[] = [];
  const seen = new Map<string, number>();
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) {
        const name = functionName(node, source);
        const count = (seen.get(name) ?? 0) + 1;
        seen.set(name, count);
        const key = `function-lines ${file.path} ${name}${count > 1 ? `#${count}` : ''}`;
        found.push({
          kind: 'function-lines',
          key,
          size: lines,
          message: `${file.path}:${start + 1} ${name} is ${lines} lines (limit ${max}): split it into named parts`,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The module specifiers a file imports or re-exports, type-only ones included, dynamic imports too. */
export function importsOf(file: SourceFile): string[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) specifiers.push(literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/** Resolves a specifier to a root-relative path; undefined for packages and node builtins. */
export function resolveImport(
  from: string,
  specifier: string,
  aliases: Readonly<Record<string, string>>,
): string | undefined {
  for (const [alias, target] of Object.entries(aliases)) {
    const prefix = alias.replace(/\*$/, '');
    if (alias.endsWith('*') ? specifier.startsWith(prefix) : specifier === alias) {
      const rest = specifier.slice(prefix.length);
      return normalize(target.replace(/^\.\//, '').replace(/\*$/, '') + rest);
    }
  }
  if (!specifier.startsWith('.')) return undefined;
  return normalize(join(dirname(from), specifier));
}

function normalize(path: string): string {
  return path.split(sep).join('/');
}

/** Import circles (Tarjan's strongly connected components of two or more files, or a file importing itself). */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const lowLinks = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  const connect = (node: string): void => {
    indices.set(node, index);
    lowLinks.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indices.has(next)) {
        connect(next);
        lowLinks.set(node, Math.min(lowLinks.get(node)!, lowLinks.get(next)!));
      } else if (onStack.has(next)) {
        lowLinks.set(node, Math.min(lowLinks.get(node)!, indices.get(next)!));
      }
    }
    if (lowLinks.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = component.length === 1 && (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) connect(node);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

export function checkSources(
  files: readonly SourceFile[],
  aliases: Readonly<Record<string, string>>,
  limits: { maxFileLines?: number; maxFunctionLines?: number } = {},
): Violation[] {
  const maxFile = limits.maxFileLines ?? MAX_FILE_LINES;
  const violations: Violation[] = [];
  const graph = new Map<string, string[]>();
  const known = new Set(files.map((file) => file.path));
  for (const file of files) {
    const lines = lineCount(file.text);
    if (lines > maxFile)
      violations.push({
        kind: 'file-lines',
        key: `file-lines ${file.path}`,
        size: lines,
        message: `${file.path} is ${lines} lines (limit ${maxFile}): give its concerns rooms of their own`,
      });
    violations.push(...longFunctions(file, limits.maxFunctionLines));
    const targets = importsOf(file)
      .map((specifier) => resolveImport(file.path, specifier, aliases))
      .filter((target): target is string => target !== undefined && known.has(target));
    graph.set(file.path, [...new Set(targets)]);
    const from = layerOf(file.path);
    for (const target of new Set(targets)) {
      const to = layerOf(target);
      if (from && to && to.layer > from.layer)
        violations.push({
          kind: 'layer',
          key: `layer ${file.path} -> ${target}`,
          size: 0,
          message: `${file.path} (${from.name}) imports ${target} (${to.name}), a higher layer: move the shared part down`,
        });
    }
  }
  for (const circle of circles(graph))
    violations.push({
      kind: 'circle',
      key: `circle ${circle.join(' ')}`,
      size: 0,
      message: `import circle: ${circle.join(' <-> ')}: move what they share into a module of its own`,
    });
  return violations;
}

/** Violations not in `known`, or grown past the size `known` records. */
export function newViolations(
  violations: readonly Violation[],
  known: Readonly<Record<string, number>>,
): Violation[] {
  return violations.filter((violation) => {
    const size = known[violation.key];
    return size === undefined || violation.size > size;
  });
}

const SKIP = /(^|\/)(node_modules|dist|cdk\.out|test)(\/|$)|\.d\.ts$/;

export function readSources(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir)).sort()) {
      const path = dir ? `${dir}/${entry}` : entry;
      if (SKIP.test(path)) continue;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs)$/.test(entry))
        files.push({ path, text: readFileSync(join(root, path), 'utf8') });
    }
  };
  for (const dir of SOURCE_ROOTS) {
    try {
      walk(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return files;
}

/**
 * The violations that stood when these limits came (2026-12-07), with their sizes. Shrink them; the house's
 * restructuring empties this list.
 */
export const KNOWN: Readonly<Record<string, number>> = {};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const aliases = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports as Record<
    string,
    string
  >;
  const all = checkSources(readSources(root), aliases);
  const fresh = newViolations(all, KNOWN);
  const listing = process.argv.includes('--list');
  if (listing) for (const violation of all) console.log(`${violation.key}\t${violation.size}`);
  for (const violation of fresh) console.error(`limits: ${violation.message}`);
  // A violation that shrank or went is progress, not a failure: the notice asks for KNOWN to follow it down.
  const stale = Object.keys(KNOWN).filter((key) => !all.some((violation) => violation.key === key));
  for (const key of stale) console.log(`limits: "${key}" no longer breaks a limit: remove it from KNOWN`);
  for (const v of all.filter((v) => KNOWN[v.key] !== undefined && v.size < KNOWN[v.key]!))
    console.log(`limits: "${v.key}" shrank to ${v.size}: lower it in KNOWN`);
  if (fresh.length > 0) process.exit(1);
  if (!listing)
    console.log(`limits: ${all.length} known violations (KNOWN in scripts/limits.ts), none new or grown`);
}
