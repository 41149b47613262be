import { WeightsNotApplied } from '#domain/errors.ts';
import type { ListenerPort, Weights } from '#domain/types.ts';
import type { LocalAlb } from './alb.ts';

/** The ListenerPort over the local ALB stand-in: same contract as the ELBv2 adapter, read-back included. */
export class LocalListener implements ListenerPort {
  constructor(
    private readonly alb: Pick<LocalAlb, 'getWeights' | 'setWeights'>,
    /** Where the target group's health check goes: the target-only path, e.g. http://127.0.0.1:9202/. */
    private readonly targetHealthUrl: string,
    private readonly healthTimeoutMs = 1000,
  ) {}

  async readWeights(): Promise<Weights> {
    return this.alb.getWeights();
  }

  /** Bad weights throw `ValidationFailed` before anything changes, as ModifyListener refuses them. */
  async writeWeights(weights: Weights): Promise<void> {
    this.alb.setWeights(weights);
    const seen = this.alb.getWeights();
    if (seen.source !== weights.source || seen.target !== weights.target) {
      throw new WeightsNotApplied(
        `the local ALB holds ${seen.source}/${seen.target} after writing ${weights.source}/${weights.target}`,
      );
    }
  }

  /** Checked on each call, like an ALB health check: 1 if the target answers GET / below 500 in time, else 0. */
  async healthyTargetCount(): Promise<number> {
    try {
      const response = await fetch(this.targetHealthUrl, {
        signal: AbortSignal.timeout(this.healthTimeoutMs),
      });
      await response.arrayBuffer();
      return response.status < 500 ? 1 : 0;
    } catch {
      return 0;
    }
  }

  /** The stand-in has no stickiness: every request is weighted on its own. */
  async stickinessSeconds(): Promise<number | undefined> {
    return undefined;
  }
}
