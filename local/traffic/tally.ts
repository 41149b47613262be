/** The clients' counts: per cluster, per second, per operation. */

/** Counts per cluster; `unknown` appears when no cluster answered (a connection error or timeout at the ALB). */
export interface ClusterTally {
  source: number;
  target: number;
  [cluster: string]: number;
}

export interface TrafficSecond {
  /** Seconds since the traffic started; requests are counted in the second they were sent. */
  readonly second: number;
  sent: number;
  ok: number;
  failed: number;
  servedBy: ClusterTally;
  failedByCluster: ClusterTally;
}

export interface TrafficCounts {
  /** Requests sent. Once `stop()` has returned, sent = ok + failed. */
  sent: number;
  /** Answered below 500 (a 404 is the cluster answering, not failing). */
  ok: number;
  /** Answered 5xx, or not answered at all. */
  failed: number;
  /** Sends skipped because `maxInFlight` requests were still waiting: the clients were slower than the rate. */
  skipped: number;
  /** Answers (ok or not) by the cluster named in `x-served-by`. */
  servedBy: ClusterTally;
  /** Failed requests by the cluster that answered (x-served-by), or `unknown` when nothing answered. */
  failedByCluster: ClusterTally;
  perSecond: TrafficSecond[];
  /** By the operation a request carried (`get`, `bulk`, ...), when the requests name one. */
  operations?: Record<string, OperationTally>;
}

export interface OperationTally {
  sent: number;
  ok: number;
  failed: number;
  /** Answered 404 (counted in ok too: a missing document is an answer). */
  notFound: number;
}

const tally = (): ClusterTally => ({ source: 0, target: 0 });

function bump(table: ClusterTally, cluster: string): void {
  table[cluster] = (table[cluster] ?? 0) + 1;
}

export class TrafficTally {
  readonly counts: TrafficCounts = {
    sent: 0,
    ok: 0,
    failed: 0,
    skipped: 0,
    servedBy: tally(),
    failedByCluster: tally(),
    perSecond: [],
  };
  private readonly startedAt = performance.now();

  /** Counts a request sent now; returns what counts its answer (`cluster` `unknown`: nothing answered). */
  sent(operation: string | undefined): (cluster: string, ok: boolean, status: number) => void {
    const { counts } = this;
    const second = this.secondNow();
    counts.sent += 1;
    second.sent += 1;
    let byOperation: OperationTally | undefined;
    if (operation !== undefined) {
      counts.operations ??= {};
      byOperation = counts.operations[operation] ??= { sent: 0, ok: 0, failed: 0, notFound: 0 };
      byOperation.sent += 1;
    }
    return (cluster, ok, status) => {
      for (const bucket of [counts, second]) {
        if (cluster !== 'unknown') bump(bucket.servedBy, cluster);
        if (ok) bucket.ok += 1;
        else {
          bucket.failed += 1;
          bump(bucket.failedByCluster, cluster);
        }
      }
      if (byOperation) {
        if (ok) byOperation.ok += 1;
        else byOperation.failed += 1;
        if (status === 404) byOperation.notFound += 1;
      }
    };
  }

  private secondNow(): TrafficSecond {
    const second = Math.floor((performance.now() - this.startedAt) / 1000);
    let last = this.counts.perSecond.at(-1);
    while (!last || last.second < second) {
      last = {
        second: last ? last.second + 1 : 0,
        sent: 0,
        ok: 0,
        failed: 0,
        servedBy: tally(),
        failedByCluster: tally(),
      };
      this.counts.perSecond.push(last);
    }
    return last;
  }
}
