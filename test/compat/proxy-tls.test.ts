// Proxy TLS blocks (`http.tls` for https:// proxies, `grpc.tls` for GRPC ones; docs/proxy.md): a real Gyre process
// calls real HTTPS and GRPC-over-TLS backends that require a client certificate (mutual TLS), with certificates
// made by this test. A proxy block that trusts the test CA and presents the client certificate gets answers; one
// without the CA, without the client certificate, or expecting another server name fails with 100, as
// insecure_skip_verify lets an untrusted server through.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/index.js';
import { createProxies } from '../../src/proxy/registry.js';
import { haveOpenssl, makeTestCerts, type TestCerts } from '../harness/certs.js';
import { ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { startGrpcBackend, startHttpBackend, type Backend } from '../harness/proxy-backend.js';
import { baseConfig } from './base-config.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed (it makes the test certificates)';

function errCode(e: unknown): number | undefined {
  const err = (e as { code?: number; error?: { code?: number } }) ?? {};
  return err.error?.code ?? err.code;
}

describe('proxy TLS', { skip }, () => {
  let certs: TestCerts;
  let https: Backend;
  let grpcTls: Backend;
  let gyre: GyreProcess;
  const pool = new ClientPool();

  before(async () => {
    certs = makeTestCerts();
    const answer = () => ({ body: { result: { data: { over: 'tls' } } } });
    const tls = { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.caCert };
    [https, grpcTls] = await Promise.all([startHttpBackend(answer, tls), startGrpcBackend(answer, tls)]);
    const client = { cert_pem: certs.files.clientCert, key_pem: certs.files.clientKey };
    const trusted = { enabled: true, server_ca_pem: certs.caCert, ...client };
    // Each variant once over HTTPS (`h<variant>`) and once over GRPC (`g<variant>`).
    const variants: Record<string, Record<string, unknown>> = {
      ok: trusted,
      nocert: { enabled: true, server_ca_pem: certs.caCert },
      noca: { enabled: true, ...client },
      skip: { enabled: true, insecure_skip_verify: true, ...client },
      wrongname: { ...trusted, server_name: 'other.example' },
      name: { ...trusted, server_name: 'localhost' },
      // base64-encoded PEM, as Centrifugo reads it.
      b64: { ...trusted, server_ca_pem: Buffer.from(certs.caCert).toString('base64') },
    };
    const proxies: Record<string, unknown>[] = [];
    for (const [v, block] of Object.entries(variants)) {
      proxies.push({ name: `h${v}`, endpoint: `${https.endpoint}/rpc`, timeout: '2s', http: { tls: block } });
      proxies.push({ name: `g${v}`, endpoint: grpcTls.endpoint, timeout: '2s', grpc: { tls: block } });
    }
    gyre = await startGyre(
      mergeConfig(baseConfig(), {
        client: { insecure: true },
        rpc: { namespaces: proxies.map((p) => ({ name: p['name'], proxy_enabled: true, proxy_name: p['name'] })) },
        proxies,
      }),
    );
  });

  after(async () => {
    pool.closeAll();
    await gyre?.stop();
    await Promise.all([https?.close(), grpcTls?.close()]);
    certs?.remove();
  });

  async function rpcVia(name: string): Promise<unknown> {
    const { client } = pool.json(gyre.url);
    client.connect();
    await client.ready(5000);
    const r = await client.rpc(`${name}:m`, {});
    return r.data;
  }

  for (const proto of ['h', 'g'] as const) {
    const label = proto === 'h' ? 'HTTPS' : 'GRPC';
    it(`${label}: trusted CA and client certificate (path, base64 or a checked server name) reach the backend`, async () => {
      const before = (proto === 'h' ? https : grpcTls).calls.length;
      for (const v of ['ok', 'b64', 'name', 'skip']) assert.deepEqual(await rpcVia(`${proto}${v}`), { over: 'tls' }, v);
      assert.equal((proto === 'h' ? https : grpcTls).calls.length - before, 4);
    });

    it(`${label}: no client certificate, an untrusted server or a wrong server name is 100`, async () => {
      const before = (proto === 'h' ? https : grpcTls).calls.length;
      for (const v of ['nocert', 'noca', 'wrongname']) {
        await assert.rejects(rpcVia(`${proto}${v}`), (e) => errCode(e) === 100, v);
      }
      assert.equal((proto === 'h' ? https : grpcTls).calls.length - before, 0);
    });
  }

  it('an unreadable PEM in a proxy TLS block is a config error naming the key', () => {
    for (const section of ['http', 'grpc'] as const) {
      const endpoint = section === 'http' ? 'https://127.0.0.1:1/rpc' : '127.0.0.1:1';
      const file = join(certs.dir, `bad-${section}.json`);
      const proxy = { endpoint, [section]: { tls: { enabled: true, server_ca_pem: join(certs.dir, 'nonexistent.pem') } } };
      writeFileSync(file, JSON.stringify({ rpc: { without_namespace: { proxy_enabled: true }, proxy } }));
      const { config } = loadConfig({ file, env: {} });
      assert.throws(
        () => createProxies(config),
        (e) => e instanceof ConfigError && e.path === `rpc.proxy.${section}.tls.server_ca_pem`,
      );
    }
  });
});
