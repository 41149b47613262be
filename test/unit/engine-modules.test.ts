import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A reader finds the code of a state by the state's name: each Task state of the deployed ASL reaches, through
 * its handler, the engine module named after it, or (for a family of states sharing one handler) the module
 * whose opening comment names it.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const ENGINE = join(ROOT, 'functions', 'commons', 'domain', 'engine');

interface TaskState {
  readonly name: string;
  readonly functionArn: string;
}

function taskStates(states: Record<string, Record<string, unknown>>, out: TaskState[] = []): TaskState[] {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') {
      const parameters = (state.Parameters ?? {}) as { FunctionName?: string };
      const placeholder = String(parameters.FunctionName ?? state.Resource);
      const functionArn = /^\$\{(\w+)FunctionArn\}$/.exec(placeholder)?.[1];
      if (!functionArn) throw new Error(`Task state ${name} invokes ${placeholder}, not a Swing function`);
      out.push({ name, functionArn });
    }
    for (const branch of (state.Branches ?? []) as { States: Record<string, Record<string, unknown>> }[]) {
      taskStates(branch.States, out);
    }
  }
  return out;
}

const kebab = (name: string): string => name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

function engineImports(handlerSource: string): string[] {
  return [...handlerSource.matchAll(/from '#domain\/engine\/([\w-]+)\.ts'/g)].map(
    (match) => match[1] as string,
  );
}

function openingComment(moduleSource: string): string {
  return /\/\*\*([\s\S]*?)\*\//.exec(moduleSource)?.[1] ?? '';
}

/** The engine module that holds the state's logic, reached from its handler; undefined when there is none. */
function moduleOfState(
  state: TaskState,
  readSource: (path: string) => string | undefined,
): string | undefined {
  const handler = readSource(join(ROOT, 'functions', `${kebab(state.functionArn)}.ts`));
  if (handler === undefined) return undefined;
  const imported = engineImports(handler);
  if (imported.includes(kebab(state.name))) return kebab(state.name);
  return imported.find((module) =>
    new RegExp(`\\b${state.name}\\b`).test(openingComment(readSource(join(ENGINE, `${module}.ts`)) ?? '')),
  );
}

const readIfPresent = (path: string): string | undefined =>
  existsSync(path) ? readFileSync(path, 'utf8') : undefined;

describe('the engine by task', () => {
  const asl = JSON.parse(readFileSync(join(ROOT, 'statemachine', 'rollout.asl.json'), 'utf8'));
  const states = taskStates(asl.States);

  it('reads every Task state of the ASL', () => {
    expect(states.map((state) => state.name)).toEqual(
      expect.arrayContaining([
        'Preflight',
        'SmokeTest',
        'ShiftWeights',
        'Bake',
        'AfterBake',
        'Rollback',
        'Complete',
      ]),
    );
  });

  it.each(states.map((state) => [state.name, state] as const))(
    '%s reaches the engine module named after it, or one whose opening comment names it',
    (_name, state) => {
      expect(moduleOfState(state, readIfPresent)).toBeDefined();
    },
  );

  it('the states with a module of their own reach it, not a family', () => {
    const own = states.filter((state) => existsSync(join(ENGINE, `${kebab(state.name)}.ts`)));
    expect(own.map((state) => state.name)).toEqual(
      expect.arrayContaining(['Preflight', 'SmokeTest', 'ShiftWeights', 'Bake', 'AfterBake', 'Rollback']),
    );
    for (const state of own) expect(moduleOfState(state, readIfPresent)).toBe(kebab(state.name));
  });

  it('a handler whose logic moved elsewhere, or a comment that forgot a state, is found', () => {
    const preflight = { name: 'Preflight', functionArn: 'Preflight' };
    const moved = (path: string) =>
      path.endsWith(join('functions', 'preflight.ts'))
        ? "import { preflight } from '#domain/engine/everything.ts';"
        : readIfPresent(path);
    expect(moduleOfState(preflight, moved)).toBeUndefined();

    const gate = { name: 'Gate', functionArn: 'Bake' };
    const forgot = (path: string) =>
      path.endsWith(join('engine', 'bake.ts')) ? '/** Bake only. */' : readIfPresent(path);
    expect(moduleOfState(gate, forgot)).toBeUndefined();
    expect(moduleOfState(gate, readIfPresent)).toBe('bake');
  });
});
