import { elbCondition } from '#adapters/swing-rules.ts';
import { SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { Group } from './alb.ts';
import { compileConditions, parseRequest, type RequestTest } from './alb-rules.ts';

/**
 * The requests the local ALB sent to the target, told apart as the reads-first rule set tells them: a read is
 * what a read rule takes (and `writes-to-source` does not keep back); everything else counts as a write (the
 * few reads `writes-to-source` keeps with the writes included). Counted when routed, so a snapshot taken as
 * the weights change splits them exactly, as the timeline's other counts.
 */

export interface RequestKindCounts {
  readonly reads: number;
  readonly writes: number;
}

const tests = (role: 'reads' | 'writes'): RequestTest[] =>
  SWING_RULE_SET.filter((spec) => spec.role === role).map((spec) =>
    compileConditions(spec.conditions.map(elbCondition)),
  );

const readTests = tests('reads');
const keptBackTests = tests('writes');

/** True when the reads-first rule set moves this request as a read. */
export function isReadRequest(request: { readonly method: string; readonly url: string }): boolean {
  const parsed = parseRequest({ method: request.method, url: request.url, headers: {} });
  if (keptBackTests.some((test) => test(parsed))) return false;
  return readTests.some((test) => test(parsed));
}

export class TargetRequestKinds {
  private reads = 0;
  private writes = 0;

  /** The local ALB's `onRouted`: counts a request the weighted listener sent to the target. */
  readonly onRouted = (request: { readonly method: string; readonly url: string }, group: Group): void => {
    if (group !== 'target') return;
    if (isReadRequest(request)) this.reads += 1;
    else this.writes += 1;
  };

  counts(): RequestKindCounts {
    return { reads: this.reads, writes: this.writes };
  }
}
