import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface ListenerPorts {
  readonly weighted: number;
  readonly source: number;
  readonly target: number;
}

export interface Listeners {
  readonly ports: ListenerPorts;
  close(): Promise<void>;
}

/**
 * The ALB's three listeners on `base` (weighted), +1 (source only) and +2 (target only), or on three
 * ephemeral ports for a base of 0. If one cannot listen, those already listening close and the error names the
 * ports and the way out.
 */
export async function openListeners(
  host: string,
  base: number,
  handlers: Readonly<Record<keyof ListenerPorts, Handler>>,
): Promise<Listeners> {
  const servers: Server[] = [];
  const close = async () => {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  };
  const listen = async (handler: Handler, offset: number) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(base === 0 ? 0 : base + offset, host, () => resolve());
    });
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };
  try {
    const weighted = await listen(handlers.weighted, 0);
    const source = await listen(handlers.source, 1);
    const target = await listen(handlers.target, 2);
    return { ports: { weighted, source, target }, close };
  } catch (error) {
    await close();
    throw new Error(
      `the local ALB could not listen on ${host}:${base}-${base + 2}: choose another port base, or 0 for ephemeral ports`,
      { cause: error },
    );
  }
}
