import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/config/errors.js';
import type { TlsConfig } from '../../../src/config/types.js';
import { loadPem } from '../../../src/config/pem.js';
import { serverTls, tlsServerOptions } from '../../../src/http/tls.js';
import { haveOpenssl, makeTestCerts } from '../../harness/certs.js';
import type { TestCerts } from '../../harness/certs.js';
import { freePort } from '../../harness/ports.js';
import { withTimeout } from '../../harness/wait.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed (it makes the test certificates)';

function block(over: Partial<TlsConfig>): TlsConfig {
  return { enabled: true, cert_pem: '', key_pem: '', server_ca_pem: '', client_ca_pem: '', insecure_skip_verify: false, server_name: '', ...over };
}

function configError(fn: () => unknown, path: string): void {
  assert.throws(fn, (err: unknown) => err instanceof ConfigError && err.path === path && err.code === 'invalid_value');
}

describe('TLS config', { skip }, () => {
  let certs: TestCerts;
  before(() => {
    certs = makeTestCerts();
  });
  after(() => {
    certs?.remove();
  });

  it('reads a *_pem value as raw PEM, base64 PEM or a file path (Centrifugo order)', () => {
    const pem = certs.serverCert;
    assert.equal(loadPem(pem, 'k').toString(), pem);
    assert.equal(loadPem(Buffer.from(pem).toString('base64'), 'k').toString(), pem);
    assert.equal(loadPem(certs.files.serverCert, 'k').toString(), pem);
    configError(() => loadPem('/no/such/file.pem', 'http_server.tls.cert_pem'), 'http_server.tls.cert_pem');
    configError(() => loadPem(Buffer.from('not pem').toString('base64'), 'x.key_pem'), 'x.key_pem');
    configError(() => loadPem(certs.dir, 'x.cert_pem'), 'x.cert_pem');
  });

  it('refuses a missing cert or key, and a key that does not match the certificate', () => {
    configError(() => tlsServerOptions(block({ key_pem: certs.serverKey }), 'http_server.tls'), 'http_server.tls.cert_pem');
    configError(() => tlsServerOptions(block({ cert_pem: certs.serverCert }), 'http_server.tls'), 'http_server.tls.key_pem');
    configError(() => tlsServerOptions(block({ cert_pem: certs.serverCert, key_pem: certs.clientKey }), 'http_server.tls'), 'http_server.tls.cert_pem');
  });

  it("chooses TLS per port like Centrifugo: tls on both unless tls_external; internal_tls replaces it", () => {
    const c = defaultConfig().http_server;
    assert.deepEqual(serverTls(c), { main: undefined, internal: undefined });
    const on = block({ cert_pem: certs.serverCert, key_pem: certs.serverKey });
    const both = serverTls({ ...c, tls: on });
    assert.ok(both.main !== undefined && both.internal === both.main);
    const external = serverTls({ ...c, tls: on, tls_external: true });
    assert.ok(external.main !== undefined && external.internal === undefined);
    const own = serverTls({ ...c, tls: on, tls_external: true, internal_tls: block({ cert_pem: certs.files.clientCert, key_pem: certs.files.clientKey }) });
    assert.ok(own.internal !== undefined && own.internal !== own.main);
    assert.equal(String(own.internal.cert), certs.clientCert);
  });
});

describe('mutual TLS (client_ca_pem)', { skip }, () => {
  let certs: TestCerts;
  let close: () => Promise<void>;
  let port: number;
  before(async () => {
    certs = makeTestCerts();
    const c = defaultConfig();
    c.http_server.address = '127.0.0.1';
    c.http_server.port = 0;
    c.health.enabled = true;
    c.http_server.tls = block({ cert_pem: certs.serverCert, key_pem: certs.serverKey, client_ca_pem: certs.caCert });
    const srv = await startServer(c, { logger: pino({ level: 'silent' }) });
    port = srv.port;
    close = () => srv.close();
  });
  after(async () => {
    await close?.();
    certs?.remove();
  });

  function health(withClientCert: boolean): Promise<number> {
    return withTimeout(
      new Promise<number>((resolve, reject) => {
        const auth = withClientCert ? { cert: certs.clientCert, key: certs.clientKey } : {};
        const req = httpsRequest(`https://127.0.0.1:${port}/health`, { ca: certs.caCert, ...auth }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      }),
      5000,
      'HTTPS /health',
    );
  }

  it('serves a client presenting a certificate signed by the CA', async () => {
    assert.equal(await health(true), 200);
  });

  it('refuses a client without a certificate', async () => {
    await assert.rejects(health(false));
  });
});

describe('TLS on a separate internal port (tls without tls_external)', { skip }, () => {
  let certs: TestCerts;
  let close: () => Promise<void>;
  let ports: { main: number; internal: number };
  before(async () => {
    certs = makeTestCerts();
    const c = defaultConfig();
    c.http_server.address = '127.0.0.1';
    c.http_server.port = 0;
    c.http_server.internal_address = '127.0.0.1';
    c.http_server.internal_port = await freePort();
    c.health.enabled = true;
    c.http_server.tls = block({ cert_pem: certs.serverCert, key_pem: certs.serverKey });
    const srv = await startServer(c, { logger: pino({ level: 'silent' }) });
    ports = { main: srv.port, internal: srv.internalPort };
    close = () => srv.close();
  });
  after(async () => {
    await close?.();
    certs?.remove();
  });

  it('serves /health over HTTPS on the internal port, and refuses plain HTTP there', async () => {
    assert.notEqual(ports.internal, ports.main);
    const status = await withTimeout(
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`https://127.0.0.1:${ports.internal}/health`, { ca: certs.caCert }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      }),
      5000,
      'internal HTTPS /health',
    );
    assert.equal(status, 200);
    await assert.rejects(fetch(`http://127.0.0.1:${ports.internal}/health`, { signal: AbortSignal.timeout(5000) }));
  });
});
