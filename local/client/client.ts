import type { DocumentSource } from '../documents.ts';
import type { PlannedRequest } from '../traffic.ts';

/** What every client operation draws from: the index, one id space, document bodies, and the 404 tally. */

export const TAGS = ['red', 'green', 'blue'] as const;

export type Answered = Parameters<NonNullable<PlannedRequest['onAnswer']>>[0];

export function documentBody(n: number, revision: number): DocumentSource {
  return { n, title: `document ${n}`, tag: TAGS[n % TAGS.length], revision };
}

export const json = (value: unknown) => JSON.stringify(value);
export const ndjson = (lines: unknown[]) => `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;

/**
 * The clients' shared state. The ids `1..initialDocuments` exist from the start; writes add ids after them,
 * so reads find what was written.
 */
export class ClientState {
  private lastId: number;
  private revision = 0;
  /** Creates sent so far. */
  creates = 0;
  /** 404s that no missing document, index or scroll context explains. */
  unknownApi = 0;

  constructor(
    readonly index: string,
    readonly random: () => number,
    initialDocuments: number,
  ) {
    this.lastId = initialDocuments;
  }

  anyId(): string {
    return `${1 + Math.floor(this.random() * Math.max(1, this.lastId))}`;
  }

  newId(): string {
    return `${++this.lastId}`;
  }

  /** Half new documents, half changes to any. */
  writeId(): string {
    return this.random() < 0.5 ? this.newId() : this.anyId();
  }

  body(id: string): DocumentSource {
    return documentBody(Number(id), this.nextRevision());
  }

  nextRevision(): number {
    return ++this.revision;
  }

  tag(): (typeof TAGS)[number] | undefined {
    return TAGS[Math.floor(this.random() * TAGS.length)];
  }

  searchBody(): Record<string, unknown> {
    const roll = this.random();
    if (roll < 0.4) return { query: { term: { tag: this.tag() } }, size: 10 };
    if (roll < 0.7) return { query: { ids: { values: [this.anyId(), this.anyId(), this.anyId()] } } };
    return { query: { match_all: {} }, size: 5 };
  }

  /** An answer handler that counts an unexplained 404, then hands the answer on. */
  counted(then?: (answer: Answered) => void): (answer: Answered) => void {
    return (answer) => {
      if (answer.status === 404 && !isMissingThing(answer.body)) this.unknownApi += 1;
      then?.(answer);
    };
  }
}

/** A 404 OpenSearch sends for a missing document, index or scroll context, not for an unknown API. */
function isMissingThing(text: string): boolean {
  try {
    const body = JSON.parse(text) as {
      found?: unknown;
      result?: unknown;
      num_freed?: unknown;
      error?: { type?: unknown; root_cause?: { type?: unknown }[] };
    };
    if (body.found === false || body.result === 'not_found' || body.num_freed === 0) return true;
    const types = [body.error?.type, ...(body.error?.root_cause ?? []).map((cause) => cause.type)];
    return types.some(
      (type) =>
        type === 'index_not_found_exception' ||
        type === 'search_context_missing_exception' ||
        type === 'document_missing_exception',
    );
  } catch {
    return false;
  }
}
