import type { RequestOptions } from 'node:http';
import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions, connect } from 'node:tls';

/** The TLS error a server with another certificate gets: named like Node's own TLS errors. */
export class CertificatePinMismatch extends Error {
  readonly code = 'ERR_TLS_CERT_PIN_MISMATCH';
  constructor(expected: string, actual: string | undefined) {
    super(`the server's certificate (SHA-256 ${actual ?? 'none'}) is not the pinned one (${expected})`);
    this.name = 'CertificatePinMismatch';
  }
}

type OnSocket = (error: Error | null, socket: Duplex) => void;

/**
 * An HTTPS agent that trusts exactly one certificate, by its SHA-256 fingerprint, whatever its issuer or names.
 * Chain and hostname checks cannot pass for a self-signed certificate on a private-zone name, and Node only
 * runs `checkServerIdentity` after the chain verified; so the agent hands the socket to the request only once
 * the peer's fingerprint matched, and nothing (not even the headers) is written to any other server.
 */
export class PinnedCertificateAgent extends Agent {
  constructor(
    private readonly fingerprint256: string,
    options: AgentOptions = {},
  ) {
    super({ ...options, keepAlive: false });
  }

  override createConnection(options: RequestOptions, onSocket?: OnSocket): Duplex | undefined {
    const socket = connect({ ...(options as ConnectionOptions), rejectUnauthorized: false });
    const done: OnSocket = onSocket ?? (() => {});
    const fail = (error: Error) => {
      socket.destroy();
      done(error, socket);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.removeListener('error', fail);
      const actual = socket.getPeerCertificate()?.fingerprint256;
      if (actual !== this.fingerprint256) {
        fail(new CertificatePinMismatch(this.fingerprint256, actual));
        return;
      }
      done(null, socket);
    });
    // Returning nothing makes the agent wait for `onSocket`: the request is not written before the check.
    return undefined;
  }
}
