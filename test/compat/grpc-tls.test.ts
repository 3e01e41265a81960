// TLS on the GRPC ports (docs/grpc.md): grpc_api with mutual TLS (client_ca_pem) and uni_grpc with server TLS, the
// PEM values given as file paths and as PEM text. Certificates are made at test time with openssl.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_KEY } from '../harness/clients.js';
import { haveOpenssl, makeTestCerts, type TestCerts } from '../harness/certs.js';
import { consumeUni, grpc, GrpcApiClient } from '../harness/grpc.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';
import { connToken } from '../harness/tokens.js';
import { baseConfig } from './base-config.js';

describe('compat: TLS on the GRPC API and uni_grpc', { skip: haveOpenssl() ? false : 'openssl CLI not installed' }, () => {
  let certs: TestCerts;
  let gyre: GyreProcess;
  const addr = { api: '', uni: '' };

  before(async () => {
    certs = makeTestCerts();
    const [api, uni] = [await freePort(), await freePort()];
    addr.api = `127.0.0.1:${api}`;
    addr.uni = `127.0.0.1:${uni}`;
    gyre = await startGyre(
      mergeConfig(baseConfig(), {
        grpc_api: {
          enabled: true,
          address: '127.0.0.1',
          port: api,
          key: API_KEY,
          tls: { enabled: true, cert_pem: certs.files.serverCert, key_pem: certs.files.serverKey, client_ca_pem: certs.caCert },
        },
        uni_grpc: { enabled: true, address: '127.0.0.1', port: uni, tls: { enabled: true, cert_pem: certs.serverCert, key_pem: certs.serverKey } },
      }),
    );
  });
  after(async () => {
    await gyre?.stop();
    certs?.remove();
  });

  it('grpc_api: a client certificate signed by client_ca_pem is required', async () => {
    const ca = Buffer.from(certs.caCert);
    const mutual = new GrpcApiClient(addr.api, API_KEY, {}, grpc.credentials.createSsl(ca, Buffer.from(certs.clientKey), Buffer.from(certs.clientCert)));
    const noCert = new GrpcApiClient(addr.api, API_KEY, {}, grpc.credentials.createSsl(ca));
    const plain = new GrpcApiClient(addr.api, API_KEY);
    try {
      assert.deepEqual(await mutual.ok('Publish', { channel: 'open:tls', data: Buffer.from('1') }), {});
      assert.equal((await noCert.call('Info', {})).error?.code, grpc.status.UNAVAILABLE);
      assert.equal((await plain.call('Info', {})).error?.code, grpc.status.UNAVAILABLE);
    } finally {
      for (const c of [mutual, noCert, plain]) c.close();
    }
  });

  it('uni_grpc: the stream works over TLS', async () => {
    const token = await connToken({ sub: 'tls-uni', expIn: 3600 });
    const { stream, client } = consumeUni(addr.uni, { token }, {}, grpc.credentials.createSsl(Buffer.from(certs.caCert)));
    try {
      assert.ok((await stream.push(1))['connect'] !== undefined);
    } finally {
      stream.cancel();
      client.close();
    }
  });
});
