import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSmokeTester } from '#adapters/smoke.ts';
import { parseSmokeConfig } from '#domain/smoke-config.ts';
import { type SelfSigned, selfSignedCertificate } from '#test/support/self-signed.ts';

describe('Smoke checks through an ALB with a self-signed certificate', () => {
  let certificate: SelfSigned;
  let other: SelfSigned;
  let server: Server;
  let url: string;
  let requestsSeen = 0;

  beforeAll(async () => {
    certificate = selfSignedCertificate();
    other = selfSignedCertificate();
    server = createServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
      requestsSeen += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(request.url === '/_cluster/health' ? { status: 'green' } : { name: 'n1' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const tester = (extra: Record<string, unknown>) =>
    new HttpSmokeTester(
      parseSmokeConfig({ sourceEndpoint: url, targetEndpoint: url, timeoutMs: 2000, ...extra }),
    );

  it('reaches the ALB when its certificate is the pinned one, though no CA signed it and its name differs', async () => {
    const report = await tester({ trustedCertificateSha256: certificate.fingerprint256 }).run();

    expect(report.results.filter((result) => !result.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('accepts the fingerprint without colons and in lower case, as tools print it differently', async () => {
    const bare = certificate.fingerprint256.replaceAll(':', '').toLowerCase();

    expect((await tester({ trustedCertificateSha256: bare }).run()).ok).toBe(true);
  });

  it('sends nothing to a server whose certificate is not the pinned one, and names the mismatch', async () => {
    const before = requestsSeen;

    const report = await tester({ trustedCertificateSha256: other.fingerprint256 }).run();

    expect(report.ok).toBe(false);
    expect(report.results[0]?.detail).toMatch(/ERR_TLS_CERT_PIN_MISMATCH.*not the pinned one/);
    expect(requestsSeen).toBe(before);
  });

  it('refuses the self-signed certificate when nothing pins it', async () => {
    const report = await tester({}).run();

    expect(report.ok).toBe(false);
    expect(report.results[0]?.detail).toMatch(/TLS error .*trustedCertificateSha256/);
  });

  it('refuses a fingerprint that is not 32 bytes of hex, naming the field and how to get it', () => {
    expect(() => tester({ trustedCertificateSha256: 'AB:CD' })).toThrow(
      /smoke\.trustedCertificateSha256.*openssl x509 -noout -fingerprint -sha256/,
    );
  });

  it('refuses insecureTls beside a pin: the pin is the safe way, the two together are a mistake', () => {
    expect(() => tester({ trustedCertificateSha256: certificate.fingerprint256, insecureTls: true })).toThrow(
      /smoke\.insecureTls: cannot be true together with trustedCertificateSha256/,
    );
  });
});
