import type { IncomingMessage } from 'node:http';
import { type Answer, errorAnswer, UnsupportedQuery } from '../documents.ts';

/** What the cluster stand-in reads from a request, and the answers it gives to one it cannot serve. */

const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** OpenSearch's `search.max_keep_alive` default. */
const MAX_KEEP_ALIVE_MS = 24 * 60 * 60 * 1000;

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class BadRequest extends Error {
  override readonly name = 'BadRequest';
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export function parseJson(text: string, what: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequest('parse_exception', `${what} is not JSON: send a JSON object`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequest('parse_exception', `${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** NDJSON (`_bulk`, `_msearch`): one JSON object a line, blank lines skipped. */
export function parseLines(text: string, what: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, at) => parseJson(line, `${what} line ${at + 1}`));
}

/** `1m`, `30s`, `500ms`: OpenSearch's time units. */
export function keepAliveMs(raw: unknown): number {
  const match = /^(\d+)(nanos|micros|ms|s|m|h|d)$/.exec(String(raw).trim());
  const unit = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = match ? Number(match[1]) * unit[match[2] as keyof typeof unit] : NaN;
  if (!match || ms > MAX_KEEP_ALIVE_MS) {
    throw new BadRequest(
      'illegal_argument_exception',
      `failed to parse scroll keep-alive [${String(raw)}]: use a time such as 1m (at most 1d)`,
    );
  }
  return ms;
}

export function whole(raw: unknown, what: string, fallback: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new BadRequest('illegal_argument_exception', `[${what}] must be a whole number >= 0, not [${raw}]`);
  }
  return value;
}

export function values(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

export function opType(params: URLSearchParams): 'index' | 'create' {
  return params.get('op_type') === 'create' ? 'create' : 'index';
}

export function missingId(): Answer {
  return errorAnswer(400, 'action_request_validation_exception', 'Validation Failed: 1: id is missing;');
}

/**
 * The path's segments as OpenSearch routes them: on the raw path, dot segments not resolved
 * (`RestController.getAllHandlers` matches `request.rawPath()` in its path trie), each segment then
 * percent-decoded. A `.` or `..` segment, as sent or encoded, matches no literal part of any handler's path; the
 * stand-in, which takes an unknown segment as an index name or a document id, answers such a path as OpenSearch
 * answers one no handler matches (undefined here). No proxy on the way (the local ALB, the capture proxy)
 * resolves them either.
 */
export function routedPath(target: string): { parts: string[] | undefined; query: string } {
  const mark = target.indexOf('?');
  const raw = mark === -1 ? target : target.slice(0, mark);
  const query = mark === -1 ? '' : target.slice(mark + 1);
  const segments = raw.split('/').filter(Boolean);
  const decode = (segment: string) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  };
  const parts = segments.map(decode);
  if (parts.some((part) => part === '.' || part === '..')) return { parts: undefined, query };
  return { parts, query };
}

/** OpenSearch's answer to a path no handler matches (`RestController.handleBadRequest`): 400, the error a string. */
export function badRequestNoHandler(method: string, target: string): Answer {
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  return {
    status: 400,
    body: { error: `no handler found for uri [${path}] and method [${method}]`, status: 400 },
  };
}

export function noHandler(method: string, parts: string[]): Answer {
  return errorAnswer(404, 'not_found', `no handler for ${method} /${parts.join('/')}`);
}

/** A request the stand-in refused (bad input, a query it does not evaluate) as OpenSearch's 400; anything else rethrown. */
export function failure(error: unknown): Answer {
  if (error instanceof BadRequest) return errorAnswer(400, error.type, error.message);
  if (error instanceof UnsupportedQuery) return errorAnswer(400, 'parsing_exception', error.message);
  throw error;
}
