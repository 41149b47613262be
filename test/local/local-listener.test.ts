import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationFailed, WeightsNotApplied } from '#domain/errors.ts';
import type { Weights } from '#domain/types.ts';
import { type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import { LocalListener } from '#local/local-listener.ts';

describe('Class: LocalListener', () => {
  let source: ClusterStandIn;
  let target: ClusterStandIn;
  let alb: LocalAlb;

  beforeAll(async () => {
    source = await startClusterStandIn({ name: 'source', port: 0 });
    target = await startClusterStandIn({ name: 'target', port: 0 });
    alb = await startLocalAlb({ portBase: 0, sourceUrl: source.url, targetUrl: target.url });
  });
  afterAll(async () => {
    await alb.close();
    await source.close();
    await target.close();
  });

  it('writes weights to the local ALB and reads them back', async () => {
    const listener = new LocalListener(alb, target.url);

    await listener.writeWeights({ source: 899, target: 100 });

    expect(await listener.readWeights()).toEqual({ source: 899, target: 100 });
    expect(alb.getWeights()).toEqual({ source: 899, target: 100 });
  });

  it('sees weights changed by hand on the stand-in, as the AWS adapter sees a console edit', async () => {
    const listener = new LocalListener(alb, target.url);
    await listener.writeWeights({ source: 500, target: 499 });

    alb.setWeights({ source: 999, target: 0 });

    expect(await listener.readWeights()).toEqual({ source: 999, target: 0 });
  });

  it('refuses weights that sum to 0 and changes nothing', async () => {
    const listener = new LocalListener(alb, target.url);
    await listener.writeWeights({ source: 700, target: 299 });

    await expect(listener.writeWeights({ source: 0, target: 0 })).rejects.toThrow(ValidationFailed);
    expect(alb.getWeights()).toEqual({ source: 700, target: 299 });
  });

  it('throws WeightsNotApplied when the read-back differs from what was written', async () => {
    let held: Weights = { source: 999, target: 0 };
    const stubborn = new LocalListener(
      {
        getWeights: () => held,
        setWeights: (weights) => {
          held = { ...weights, target: 0 };
        },
      },
      target.url,
    );

    await expect(stubborn.writeWeights({ source: 500, target: 499 })).rejects.toThrow(WeightsNotApplied);
  });

  it('counts 1 healthy target while the target path answers and 0 while it fails', async () => {
    const listener = new LocalListener(alb, `http://127.0.0.1:${alb.ports.target}/`);

    const healthy = await listener.healthyTargetCount();
    target.setFault({ errorRate: 1 });
    const failing = await listener.healthyTargetCount();
    target.setFault({ errorRate: 0 });

    expect([healthy, failing]).toEqual([1, 0]);
  });

  it('counts 0 healthy targets when the target does not answer within the timeout', async () => {
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const listener = new LocalListener(
        alb,
        `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`,
        200,
      );

      expect(await listener.healthyTargetCount()).toBe(0);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('reports no stickiness', async () => {
    expect(await new LocalListener(alb, target.url).stickinessSeconds()).toBeUndefined();
  });
});
