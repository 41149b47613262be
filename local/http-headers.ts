import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// Hop-by-hop headers belong to one connection (RFC 9110 7.6.1); a proxy must not forward them.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The headers a proxy forwards: all but the hop-by-hop ones and `alsoDropped` (lower case). */
export function endToEnd(
  headers: IncomingHttpHeaders,
  alsoDropped: readonly string[] = [],
): OutgoingHttpHeaders {
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !alsoDropped.includes(name)) kept[name] = value;
  }
  return kept;
}
