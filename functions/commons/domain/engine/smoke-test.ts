import { SmokeTestFailed } from '../errors.ts';
import { StepEventSchema } from '../events.ts';
import type { SmokeReport } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import type { EngineDeps } from './deps.ts';
import { ownRollout, throwIfAborted } from './record.ts';

/** SmokeTest, after Preflight took the lock: the smoke checks of both paths, before any weight changes. */

export type SmokeDeps = Pick<EngineDeps, 'listenerArn' | 'store' | 'smoke' | 'log'>;

/** Both paths must answer before any weight changes. */
export async function smokeTest(deps: SmokeDeps, event: unknown): Promise<SmokeReport> {
  const { executionArn } = parseOrThrow(StepEventSchema.pick({ executionArn: true }), event);
  throwIfAborted(await ownRollout(deps, executionArn));
  const report = await deps.smoke.run();
  if (!report.ok) {
    const failures = report.results.filter((result) => !result.ok);
    throw new SmokeTestFailed(
      `smoke test failed, no weight was changed: ${failures.map((f) => `${f.path} ${f.name}: ${f.detail}`).join('; ')}`,
    );
  }
  deps.log.info('smoke test passed', { checks: report.results.length });
  return report;
}
