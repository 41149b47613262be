import { type Answer, errorAnswer, type Hit } from '../documents.ts';
import { searchBody } from './hits.ts';
import { BadRequest, keepAliveMs } from './request.ts';

/** OpenSearch's `search.max_open_scroll_context` default. */
const MAX_OPEN_SCROLLS = 500;

interface ScrollContext {
  readonly hits: Hit[];
  position: number;
  readonly size: number;
  keepAliveMs: number;
  expiresAt: number;
}

/**
 * One cluster's scroll contexts: opened by a search, continued page by page, cleared. The ids are this
 * instance's own, so a continuation or a clear of an id it never issued is counted: a context used on the wrong
 * cluster.
 */
export class ScrollContexts {
  private readonly contexts = new Map<string, ScrollContext>();
  private readonly issued = new Set<string>();
  private opened = 0;
  /** Continuations of an id this cluster never issued. */
  wrongClusterScrolls = 0;
  /** Clears of an id this cluster never issued. */
  wrongClusterScrollClears = 0;

  constructor(
    private readonly name: string,
    /** Unique per instance, so two stand-ins with the same name still tell their scroll ids apart. */
    private readonly instance: string,
  ) {}

  /** The contexts still open (expired ones swept first). */
  openCount(): number {
    this.sweep();
    return this.contexts.size;
  }

  /** The first page of a scrolling search, and its scroll id. */
  open(hits: Hit[], size: number, scroll: unknown): Answer {
    const keepAlive = keepAliveMs(scroll);
    this.sweep();
    if (this.contexts.size >= MAX_OPEN_SCROLLS) {
      return errorAnswer(
        500,
        'illegal_argument_exception',
        `Trying to create too many scroll contexts. Must be less than or equal to: [${MAX_OPEN_SCROLLS}]: clear scrolls when done`,
      );
    }
    this.opened += 1;
    const id = Buffer.from(`${this.name}:${this.instance}:${this.opened}`).toString('base64url');
    this.issued.add(id);
    this.contexts.set(id, {
      hits,
      position: size,
      size,
      keepAliveMs: keepAlive,
      expiresAt: Date.now() + keepAlive,
    });
    return { status: 200, body: searchBody(hits.slice(0, size), hits.length, { _scroll_id: id }) };
  }

  continue(id: unknown, scroll: unknown): Answer {
    if (typeof id !== 'string' || id === '') {
      throw new BadRequest(
        'action_request_validation_exception',
        'Validation Failed: 1: scrollId is missing;',
      );
    }
    const context = this.contexts.get(id);
    if (!context || context.expiresAt <= Date.now()) {
      this.contexts.delete(id);
      return this.missing(id);
    }
    if (scroll !== undefined && scroll !== null) context.keepAliveMs = keepAliveMs(scroll);
    context.expiresAt = Date.now() + context.keepAliveMs;
    const page = context.hits.slice(context.position, context.position + context.size);
    context.position += context.size;
    return { status: 200, body: searchBody(page, context.hits.length, { _scroll_id: id }) };
  }

  clear(ids: string[]): Answer {
    let freed = 0;
    if (ids.includes('_all')) {
      freed = this.contexts.size;
      this.contexts.clear();
    } else {
      for (const id of ids) {
        if (this.contexts.delete(id)) freed += 1;
        else if (!this.issued.has(id)) this.wrongClusterScrollClears += 1;
      }
    }
    // OpenSearch answers 404 when it freed none of the ids asked for.
    return { status: freed > 0 || ids.length === 0 ? 200 : 404, body: { succeeded: true, num_freed: freed } };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, context] of this.contexts) if (context.expiresAt <= now) this.contexts.delete(id);
  }

  private missing(id: string): Answer {
    if (!this.issued.has(id)) this.wrongClusterScrolls += 1;
    const reason = `No search context found for id [${id}]`;
    const cause = { type: 'search_context_missing_exception', reason };
    return {
      status: 404,
      body: {
        error: {
          root_cause: [cause],
          type: 'search_phase_execution_exception',
          reason: 'all shards failed',
          phase: 'query',
          grouped: true,
          failed_shards: [{ shard: -1, index: null, reason: cause }],
          caused_by: cause,
        },
        status: 404,
      },
    };
  }
}
