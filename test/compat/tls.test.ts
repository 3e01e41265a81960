// TLS on a real Gyre process (Centrifugo's http_server.tls keys), with certificates the test generates:
// WSS with the official centrifuge-js client (and the Go/Python ones when their toolchains exist), the
// permessage-deflate upgrade path over TLS, HTTPS /api and /health, cert and key given as file paths, inline
// PEM and base64 PEM, `tls_external` leaving a separate internal port in plain HTTP, and a bad certificate
// refused at start-up by key name.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { Centrifuge } from 'centrifuge';
import type { PublicationContext } from 'centrifuge';
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { API_KEY, callApi } from '../harness/clients.js';
import { haveOpenssl, makeTestCerts } from '../harness/certs.js';
import type { TestCerts } from '../harness/certs.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { prepareGo, preparePython, startClient } from '../harness/official-clients.js';
import { freePort } from '../harness/ports.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, withTimeout } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed (it makes the test certificates)';

interface HttpsAnswer {
  status: number;
  body: string;
}

function httpsCall(url: string, ca: string, body?: unknown): Promise<HttpsAnswer> {
  return withTimeout(
    new Promise<HttpsAnswer>((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          ca,
          method: body === undefined ? 'GET' : 'POST',
          headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'X-API-Key': API_KEY },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    }),
    5000,
    `HTTPS ${url}`,
  );
}

/** The `ws` class centrifuge-js should use: trusts the test CA. */
function wsTrusting(ca: string, extra: ClientOptions = {}): new (url: string, protocols?: string | string[]) => WebSocket {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca, ...extra });
    }
  };
}

async function jsRoundTrip(g: GyreProcess, ca: string, channel: string, publish: (data: unknown) => Promise<void>): Promise<void> {
  const client = new Centrifuge(g.url, { token: await connToken({ sub: 'tls-user' }), websocket: wsTrusting(ca), timeout: 8000 });
  try {
    const connected = nextEvent(client, 'connected');
    const sub = client.newSubscription(channel);
    const subscribed = nextEvent(sub, 'subscribed');
    sub.subscribe();
    client.connect();
    await connected;
    await subscribed;
    const got = nextEvent<PublicationContext>(sub, 'publication');
    const data = { over: 'wss', channel };
    await publish(data);
    assert.deepEqual((await got).data, data);
  } finally {
    client.disconnect();
  }
}

describe('compat: TLS (http_server.tls)', { skip }, () => {
  let certs: TestCerts;
  before(() => {
    certs = makeTestCerts();
  });
  after(() => {
    certs?.remove();
  });

  describe('one port, cert and key as file paths, compression on', () => {
    let g: GyreProcess;
    before(async () => {
      g = await startGyre(
        mergeConfig(baseConfig(), {
          http_server: { tls: { enabled: true, cert_pem: certs.files.serverCert, key_pem: certs.files.serverKey } },
          websocket: { compression: true },
        }),
        { tlsCa: certs.caCert },
      );
    });
    after(async () => {
      await g?.stop();
    });

    it('HTTPS /health answers 200 with a certificate the CA verifies for 127.0.0.1', async () => {
      const r = await httpsCall(`${g.baseUrl}/health`, certs.caCert);
      assert.equal(r.status, 200);
    });

    it('centrifuge-js over wss:// connects, subscribes and gets a publication sent through HTTPS /api', async () => {
      await jsRoundTrip(g, certs.caCert, 'open:tls-js', async (data) => {
        const r = await httpsCall(`${g.apiUrl}/publish`, certs.caCert, { channel: 'open:tls-js', data });
        assert.equal(r.status, 200, r.body);
        assert.ok(!r.body.includes('"error"'), r.body);
      });
    });

    it('a ws client offering permessage-deflate (the ws.handleUpgrade path) negotiates it over TLS', async () => {
      const ws = new WebSocket(g.url, ['centrifuge-json'], { ca: certs.caCert, perMessageDeflate: true });
      try {
        await withTimeout(new Promise<void>((r, j) => ws.once('open', () => r()).once('error', j)), 5000, 'wss open');
        assert.match(ws.extensions, /^permessage-deflate/);
        const reply = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
        ws.send(JSON.stringify({ id: 1, connect: { token: await connToken({ sub: 'deflate' }) } }));
        const parsed = JSON.parse(await withTimeout(reply, 5000, 'connect reply')) as { id: number; connect?: { client?: string } };
        assert.equal(parsed.id, 1);
        assert.ok((parsed.connect?.client ?? '') !== '');
      } finally {
        ws.terminate();
      }
    });

    it('a plain HTTP request to the TLS port gets no HTTP answer', async () => {
      await assert.rejects(fetch(`http://127.0.0.1:${g.port}/health`, { signal: AbortSignal.timeout(5000) }));
    });

    for (const kind of ['go', 'python'] as const) {
      for (const protobuf of [false, true]) {
        it(`the official ${kind} client over wss:// (${protobuf ? 'protobuf' : 'json'}) connects, subscribes, receives`, async (t) => {
          const p = await (kind === 'go' ? prepareGo() : preparePython('0.7.0'));
          if (!p.ok) {
            t.skip(p.reason);
            return;
          }
          const channel = `open:tls-${kind}-${protobuf ? 'pb' : 'json'}`;
          const run = startClient(kind, p, { url: g.url, token: await connToken({ sub: kind }), channel, protobuf, insecure: true });
          try {
            await withTimeout(run.subscribed, 20_000, `${kind} subscribed`);
            const data = { kind, protobuf };
            const r = await httpsCall(`${g.apiUrl}/publish`, certs.caCert, { channel, data });
            assert.equal(r.status, 200, r.body);
            assert.deepEqual(JSON.parse(await withTimeout(run.publication, 20_000, `${kind} publication`)), data);
          } finally {
            if (run.child.exitCode === null) run.child.kill('SIGKILL');
          }
        });
      }
    }
  });

  describe('inline PEM certificate, base64 PEM key, tls_external with a separate internal port', () => {
    let g: GyreProcess;
    let internalPort: number;
    before(async () => {
      internalPort = await freePort();
      g = await startGyre(
        mergeConfig(baseConfig(), {
          http_server: {
            internal_port: internalPort,
            internal_address: '127.0.0.1',
            tls_external: true,
            tls: { enabled: true, cert_pem: certs.serverCert, key_pem: Buffer.from(certs.serverKey).toString('base64') },
          },
        }),
        { tlsCa: certs.caCert, probeUrl: `http://127.0.0.1:${internalPort}/health` },
      );
    });
    after(async () => {
      await g?.stop();
    });

    it('the internal port serves /health and /api in plain HTTP', async () => {
      const health = await fetch(`http://127.0.0.1:${internalPort}/health`, { signal: AbortSignal.timeout(5000) });
      assert.equal(health.status, 200);
      const info = await callApi(`http://127.0.0.1:${internalPort}/api`, 'info', {});
      assert.equal(info.status, 200, info.text);
    });

    it('the main port serves wss:// to centrifuge-js; the publication comes through the internal plain API', async () => {
      await jsRoundTrip(g, certs.caCert, 'open:tls-external', async (data) => {
        const r = await callApi(`http://127.0.0.1:${internalPort}/api`, 'publish', { channel: 'open:tls-external', data });
        assert.equal(r.status, 200, r.text);
      });
    });
  });

  it('a certificate that is not PEM is refused at start-up, naming the key (exit 1)', async () => {
    await assert.rejects(
      startGyre(mergeConfig(baseConfig(), { http_server: { tls: { enabled: true, cert_pem: '/nonexistent/cert.pem', key_pem: certs.files.serverKey } } }), {
        tlsCa: certs.caCert,
        startTimeoutMs: 20_000,
      }),
      (err: Error) => {
        assert.match(err.message, /exited before becoming healthy \(code 1/);
        assert.match(err.message, /http_server\.tls\.cert_pem/);
        return true;
      },
    );
  });
});
