import { WeightsNotApplied } from '#domain/errors.ts';
import type { ListenerPort, Weights } from '#domain/types.ts';
import type { LocalAlb } from './alb.ts';

/** The ListenerPort over the local ALB stand-in: same contract as the ELBv2 adapter, read-back included. */
export class LocalListener implements ListenerPort {
  constructor(
    private readonly alb: Pick<LocalAlb, 'getWeights' | 'setWeights'>,
    /** Where the target group's health check goes (the target path, like ALB's health check). */
    private readonly targetHealthUrl?: string,
  ) {}

  async readWeights(): Promise<Weights> {
    return this.alb.getWeights();
  }

  async writeWeights(weights: Weights): Promise<void> {
    this.alb.setWeights(weights);
    const seen = this.alb.getWeights();
    if (seen.source !== weights.source || seen.target !== weights.target) {
      throw new WeightsNotApplied('the local ALB did not keep the weights written');
    }
  }

  /** Like an ALB health check: 1 healthy target if the target answers GET / within a second, else 0. */
  async healthyTargetCount(): Promise<number> {
    if (!this.targetHealthUrl) return 1;
    try {
      const response = await fetch(this.targetHealthUrl, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      return response.status < 500 ? 1 : 0;
    } catch {
      return 0;
    }
  }

  async stickinessSeconds(): Promise<number | undefined> {
    return undefined;
  }
}
