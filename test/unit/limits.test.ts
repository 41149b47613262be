import { describe, expect, it } from 'vitest';
import {
  checkSources,
  circles,
  layerOf,
  newViolations,
  resolveImport,
  type SourceFile,
} from '../../scripts/limits.ts';

const ALIASES = { '#domain/*': './functions/commons/domain/*', '#local/*': './local/*' };

function lines(count: number, line = 'x;'): string {
  return `${Array.from({ length: count }, () => line).join('\n')}\n`;
}

function functionOf(name: string, bodyLines: number): string {
  return `export function ${name}() {\n${lines(bodyLines, '  work();')}}\n`;
}

describe('scripts/limits.ts', () => {
  describe('file length', () => {
    it('flags a source file over the limit and passes one at it', () => {
      const over = checkSources([{ path: 'local/big.ts', text: lines(601) }], ALIASES);
      const at = checkSources([{ path: 'local/fine.ts', text: lines(600) }], ALIASES);

      expect(over.map((v) => [v.kind, v.key, v.size])).toEqual([
        ['file-lines', 'file-lines local/big.ts', 601],
      ]);
      expect(at).toEqual([]);
    });
  });

  describe('function length', () => {
    it('flags a function over the limit by its span, naming it', () => {
      const found = checkSources(
        [{ path: 'cli/long.ts', text: functionOf('registerEverything', 150) }],
        ALIASES,
      );

      expect(found.map((v) => [v.key, v.size])).toEqual([
        ['function-lines cli/long.ts registerEverything', 152],
      ]);
    });

    it('measures a nested callback as a function of its own', () => {
      const text = `export function outer() {\n  run(() => {\n${lines(160, '    work();')}  });\n}\n`;

      const found = checkSources([{ path: 'local/nested.ts', text }], ALIASES);

      expect(found.map((v) => v.key)).toEqual([
        'function-lines local/nested.ts outer',
        'function-lines local/nested.ts (callback of run)',
      ]);
    });

    it('names a class constructor after its class', () => {
      const text = `export class Big {\n  constructor() {\n${lines(151, '    work();')}  }\n}\n`;

      const found = checkSources([{ path: 'infra/big.ts', text }], ALIASES);

      expect(found.map((v) => v.key)).toEqual(['function-lines infra/big.ts Big.constructor']);
    });

    it('passes a function of 150 lines', () => {
      expect(checkSources([{ path: 'cli/ok.ts', text: functionOf('fits', 148) }], ALIASES)).toEqual([]);
    });
  });

  describe('import circles', () => {
    it('finds a circle through type-only imports', () => {
      const files: SourceFile[] = [
        {
          path: 'functions/commons/domain/a.ts',
          text: "import type { B } from './b.ts';\nexport type A = B;\n",
        },
        {
          path: 'functions/commons/domain/b.ts',
          text: "import type { A } from '#domain/a.ts';\nexport type B = A;\n",
        },
      ];

      const found = checkSources(files, ALIASES);

      expect(found.map((v) => v.key)).toEqual([
        'circle functions/commons/domain/a.ts functions/commons/domain/b.ts',
      ]);
    });

    it('finds a circle of three and nothing in a chain', () => {
      const graph = new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
        ['d', ['a']],
      ]);

      expect(circles(graph)).toEqual([['a', 'b', 'c']]);
      expect(
        circles(
          new Map([
            ['a', ['b']],
            ['b', []],
          ]),
        ),
      ).toEqual([]);
    });
  });

  describe('layers', () => {
    it('flags an import from a lower layer into a higher one, and allows the other way', () => {
      const files: SourceFile[] = [
        { path: 'local/run.ts', text: "import { render } from '../cli/render.ts';\n" },
        {
          path: 'cli/render.ts',
          text: "import { plan } from '#domain/plan.ts';\nexport const render = plan;\n",
        },
        { path: 'functions/commons/domain/plan.ts', text: 'export const plan = 1;\n' },
      ];

      const found = checkSources(files, ALIASES);

      expect(found.map((v) => v.key)).toEqual(['layer local/run.ts -> cli/render.ts']);
    });

    it('puts scripts and bench above every layer and the domain below its adapters', () => {
      expect(layerOf('scripts/build.ts')!.layer).toBeGreaterThan(layerOf('bin/swing.js')!.layer);
      expect(layerOf('bench/run.ts')!.layer).toBeGreaterThan(layerOf('cli/main.ts')!.layer);
      expect(layerOf('functions/commons/domain/plan.ts')!.layer).toBeLessThan(
        layerOf('functions/commons/adapters/listener.ts')!.layer,
      );
      expect(layerOf('report/html.ts')!.layer).toBeLessThan(layerOf('local/run.ts')!.layer);
    });

    it('flags infra importing a build script', () => {
      const files: SourceFile[] = [
        { path: 'infra/app.ts', text: "import { bundle } from '../scripts/bundle.ts';\n" },
        { path: 'scripts/bundle.ts', text: 'export const bundle = 1;\n' },
      ];

      expect(checkSources(files, ALIASES).map((v) => v.kind)).toEqual(['layer']);
    });
  });

  describe('imports', () => {
    it('resolves aliases and relative paths, and leaves packages out', () => {
      expect(resolveImport('local/run.ts', '#domain/plan.ts', ALIASES)).toBe(
        'functions/commons/domain/plan.ts',
      );
      expect(resolveImport('local/run.ts', '../cli/x.ts', ALIASES)).toBe('cli/x.ts');
      expect(resolveImport('local/run.ts', 'zod', ALIASES)).toBeUndefined();
      expect(resolveImport('local/run.ts', 'node:fs', ALIASES)).toBeUndefined();
    });
  });

  describe('the known violations', () => {
    it('lets a known violation shrink but not grow, and no new one in', () => {
      const found = checkSources([{ path: 'local/big.ts', text: lines(700) }], ALIASES);

      expect(newViolations(found, { 'file-lines local/big.ts': 700 })).toEqual([]);
      expect(newViolations(found, { 'file-lines local/big.ts': 650 }).map((v) => v.size)).toEqual([700]);
      expect(newViolations(found, {}).map((v) => v.key)).toEqual(['file-lines local/big.ts']);
    });
  });
});
