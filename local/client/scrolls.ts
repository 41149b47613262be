import type { PlannedRequest } from '../traffic.ts';
import { type ClientState, json } from './client.ts';

export const SCROLL_PAGE = 5;

export interface ScrollTally {
  /** Scrolls opened (`?scroll=1m`) that returned a scroll id. */
  opened: number;
  /** Continuations sent (`/_search/scroll`) that some cluster answered. */
  continued: number;
  /** Continuations answered by another cluster than the one that opened the scroll. */
  wrongCluster: number;
  cleared: number;
  /** Clears answered by another cluster than the one that opened the scroll (the context stays open there). */
  clearedOnWrongCluster: number;
  /** Scrolls given up on because a continuation failed (a context missing, or a 5xx). */
  lost: number;
}

export interface OpenScroll {
  readonly id: string;
  readonly cluster: string;
  busy: boolean;
  exhausted: boolean;
  pages: number;
}

/**
 * The scrolls the clients keep open, at most `max` at once: each is opened, continued a few pages (one request
 * at a time), then cleared, or dropped when a continuation fails. The tally tells which cluster answered each.
 */
export class ClientScrolls {
  readonly tally: ScrollTally = {
    opened: 0,
    continued: 0,
    wrongCluster: 0,
    cleared: 0,
    clearedOnWrongCluster: 0,
    lost: 0,
  };
  readonly open: OpenScroll[] = [];

  constructor(
    private readonly client: ClientState,
    private readonly max: number,
  ) {}

  /** The next scroll request: a continuation or a clear of an open scroll, or a new scroll; undefined when full. */
  next(): PlannedRequest | undefined {
    const ready = this.open.filter((scroll) => !scroll.busy);
    const scroll = ready[0];
    if (scroll && (this.open.length >= this.max || this.client.random() < 0.75)) {
      scroll.busy = true;
      if (scroll.exhausted || scroll.pages >= 4) {
        this.drop(scroll);
        return this.clear(scroll);
      }
      return this.continue(scroll);
    }
    if (this.open.length >= this.max) return undefined;
    return this.openOne();
  }

  /** Forgets a scroll that is done with or lost; one no longer open is already forgotten. */
  drop(scroll: OpenScroll): void {
    const at = this.open.indexOf(scroll);
    // splice(-1, 1) would remove the last scroll, another one.
    if (at !== -1) this.open.splice(at, 1);
  }

  private openOne(): PlannedRequest {
    return {
      method: 'POST',
      path: `/${this.client.index}/_search?scroll=1m`,
      body: json({ size: SCROLL_PAGE, query: { match_all: {} } }),
      operation: 'scroll-open',
      onAnswer: this.client.counted(({ status, cluster, body: text }) => {
        if (status !== 200) return;
        const answer = JSON.parse(text) as { _scroll_id?: unknown; hits?: { hits?: unknown[] } };
        if (typeof answer._scroll_id !== 'string') return;
        this.tally.opened += 1;
        this.open.push({
          id: answer._scroll_id,
          cluster,
          busy: false,
          pages: 1,
          exhausted: (answer.hits?.hits?.length ?? 0) < SCROLL_PAGE,
        });
      }),
    };
  }

  private continue(scroll: OpenScroll): PlannedRequest {
    return {
      method: 'POST',
      path: '/_search/scroll',
      body: json({ scroll_id: scroll.id, scroll: '1m' }),
      operation: 'scroll-continue',
      onAnswer: this.client.counted(({ status, cluster, body: text }) => {
        scroll.busy = false;
        if (cluster !== 'unknown') {
          this.tally.continued += 1;
          if (cluster !== scroll.cluster) this.tally.wrongCluster += 1;
        }
        if (status === 200) {
          scroll.pages += 1;
          const hits = (JSON.parse(text) as { hits?: { hits?: unknown[] } }).hits?.hits ?? [];
          scroll.exhausted = hits.length < SCROLL_PAGE;
        } else {
          // The context is gone for this client (or the cluster failed): a client would start over.
          this.tally.lost += 1;
          this.drop(scroll);
        }
      }),
    };
  }

  private clear(scroll: OpenScroll): PlannedRequest {
    return {
      method: 'DELETE',
      path: '/_search/scroll',
      body: json({ scroll_id: scroll.id }),
      operation: 'scroll-clear',
      onAnswer: this.client.counted(({ cluster }) => {
        if (cluster === 'unknown') return;
        this.tally.cleared += 1;
        if (cluster !== scroll.cluster) this.tally.clearedOnWrongCluster += 1;
      }),
    };
  }
}
