// One suite for the proxies to the application backend (docs/proxy.md), run over HTTP (proxy-http.test.ts) and
// over GRPC (proxy-grpc.test.ts): a real Gyre process, a real backend started here (test/harness/proxy-backend.ts)
// and the official centrifuge client. A slow backend (it never answers) and a dead one (nothing listens) must
// give the client a timely 100: the proxy timeout is far below the client's own command timeout, so the answer
// being 100 (and not the client's timeout error) shows the call was cut off by the server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Centrifuge, Subscription } from 'centrifuge';
import WebSocket from 'ws';
import { ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';
import { scrape, total } from '../harness/prom-text.js';
import { startGrpcBackend, startHttpBackend, type Backend, type Kind, type Program } from '../harness/proxy-backend.js';
import { nextEvent, waitFor, withTimeout } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

type Mode = 'http' | 'grpc';

const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64');

/** The default program: every call is granted; connect gives user "u1" with meta. */
const grantAll: Program = (kind) => {
  if (kind === 'connect') return { body: { result: { user: 'u1', meta: { plan: 'gold' } } } };
  return { body: { result: {} } };
};

function errCode(e: unknown): number | undefined {
  const err = (e as { code?: number; error?: { code?: number } }) ?? {};
  return err.error?.code ?? err.code;
}

export function proxySuite(mode: Mode): void {
  const start = mode === 'http' ? startHttpBackend : startGrpcBackend;
  let backend: Backend;
  let slow: Backend;
  let gyre: GyreProcess;
  let deadGyre: GyreProcess;
  const pool = new ClientPool();

  const ep = (b: Backend, kind: Kind): string => (mode === 'http' ? `${b.endpoint}/${kind}` : b.endpoint);

  before(async () => {
    [backend, slow] = await Promise.all([start(grantAll), start(() => ({ hang: true }))]);
    const deadPort = await freePort();
    const dead = mode === 'http' ? `http://127.0.0.1:${deadPort}/rpc` : `127.0.0.1:${deadPort}`;
    const short = { timeout: '300ms' };
    const transforms = [
      { status_code: 404, to_error: { code: 4404, message: 'no such thing', temporary: false } },
      { status_code: 403, to_disconnect: { code: 4403, reason: 'go away' } },
    ];
    const config = mergeConfig(baseConfig(), {
      prometheus: { enabled: true },
      client: {
        presence_update_interval: '200ms',
        proxy: {
          connect: {
            enabled: true,
            endpoint: ep(backend, 'connect'),
            http_headers: ['X-Forward-Me'],
            emulated_headers: ['X-Emulated'],
            http: { static_headers: { 'X-Static': 'from-config' } },
            grpc: { static_metadata: { 'x-static': 'from-config' } },
          },
          refresh: { enabled: true, endpoint: ep(backend, 'refresh'), include_connection_meta: true },
        },
      },
      channel: {
        proxy: {
          subscribe: { endpoint: ep(backend, 'subscribe'), include_connection_meta: true },
          publish: { endpoint: ep(backend, 'publish') },
          sub_refresh: { endpoint: ep(backend, 'sub_refresh') },
        },
        namespaces: [
          ...((baseConfig().channel as { namespaces: unknown[] }).namespaces),
          { name: 'px', subscribe_proxy_enabled: true, publish_proxy_enabled: true, presence: true, allow_presence_for_subscriber: true },
          { name: 'sr', subscribe_proxy_enabled: true, sub_refresh_proxy_enabled: true },
          { name: 'slowsub', subscribe_proxy_enabled: true, subscribe_proxy_name: 'slowsub' },
        ],
      },
      rpc: {
        proxy: { endpoint: ep(backend, 'rpc'), include_connection_meta: true, http: { status_to_code_transforms: transforms } },
        without_namespace: { proxy_enabled: true },
        namespaces: [
          { name: 'slow', proxy_enabled: true, proxy_name: 'slow' },
          { name: 'dead', proxy_enabled: true, proxy_name: 'dead' },
          { name: 'bin', proxy_enabled: true, proxy_name: 'bin' },
          { name: 'off', proxy_enabled: false },
        ],
      },
      proxies: [
        { name: 'slow', endpoint: ep(slow, 'rpc'), ...short },
        { name: 'slowsub', endpoint: ep(slow, 'subscribe'), ...short },
        { name: 'dead', endpoint: dead, ...short },
        { name: 'bin', endpoint: ep(backend, 'rpc'), binary_encoding: true },
      ],
    });
    const deadConfig = mergeConfig(baseConfig(), {
      prometheus: { enabled: true },
      client: { proxy: { connect: { enabled: true, endpoint: dead.replace(/\/rpc$/, '/connect'), ...short } } },
    });
    [gyre, deadGyre] = await Promise.all([startGyre(config), startGyre(deadConfig)]);
  });

  after(async () => {
    pool.closeAll();
    await Promise.all([gyre?.stop(), deadGyre?.stop()]);
    await Promise.all([backend?.close(), slow?.close()]);
  });

  /** A centrifuge client connected through the connect proxy (backend program set by the caller). */
  async function connected(data?: unknown): Promise<{ client: Centrifuge; ctx: { client: string; data?: unknown } }> {
    const { client } = pool.json(gyre.url, data !== undefined ? { data } : {});
    const p = nextEvent<{ client: string; data?: unknown }>(client, 'connected');
    client.connect();
    return { client, ctx: await p };
  }

  const lastCall = (kind: Kind) => [...backend.calls].reverse().find((c) => c.kind === kind);

  describe(`proxies over ${mode}: connect`, () => {
    it('applies the connect result: user, info, data, server-side channels and subs', async () => {
      backend.program = (kind, body) => {
        if (kind !== 'connect') return grantAll(kind, body);
        return {
          body: {
            result: {
              user: 'alice',
              info: { role: 'admin' },
              data: { welcome: body.data },
              channels: ['open:srv'],
              subs: { 'open:srv2': { info: { seat: 7 } } },
            },
          },
        };
      };
      const { client } = pool.json(gyre.url, { data: { hello: 1 }, name: 'suite' });
      const subscribed: string[] = [];
      client.on('subscribed', (c) => subscribed.push(c.channel));
      const p = nextEvent<{ client: string; data?: unknown }>(client, 'connected');
      client.connect();
      const ctx = await p;
      assert.deepEqual(ctx.data, { welcome: { hello: 1 } });
      await waitFor(() => subscribed.length === 2, { what: 'server-side subscriptions' });
      assert.deepEqual(subscribed.sort(), ['open:srv', 'open:srv2']);
      const req = lastCall('connect')!.body;
      assert.equal(req.client, ctx.client);
      assert.equal(req.transport, 'websocket');
      assert.equal(req.protocol, 'json');
      assert.equal(req.encoding, 'json');
      assert.equal(req.name, 'suite');
      // The user and info from the backend are the connection's: presence in a proxied namespace shows them.
      const sub = client.newSubscription('px:who');
      sub.subscribe();
      await nextEvent(sub, 'subscribed');
      const presence = await sub.presence();
      const me = Object.values(presence.clients)[0]!;
      assert.equal(me.user, 'alice');
      assert.deepEqual(me.connInfo, { role: 'admin' });
      client.disconnect();
    });

    it('forwards listed headers, emulated headers and static headers; not the others', async () => {
      backend.program = grantAll;
      const ws = new WebSocket(gyre.url, { headers: { 'X-Forward-Me': 'yes', 'X-Not-Listed': 'no' } });
      ws.on('error', () => undefined);
      await new Promise((r) => ws.once('open', r));
      const reply = new Promise<string>((r) => ws.once('message', (m: Buffer) => r(m.toString())));
      ws.send(JSON.stringify({ id: 1, connect: { headers: { 'X-Emulated': 'emu', 'X-Forward-Me-Too': 'no' } } }));
      const r = JSON.parse(await withTimeout(reply, 10_000, 'connect reply')) as { connect?: unknown };
      assert.ok(r.connect, JSON.stringify(r));
      ws.terminate();
      const h = lastCall('connect')!.headers;
      assert.equal(h['x-forward-me'], 'yes');
      assert.equal(h['x-emulated'], 'emu');
      assert.equal(h['x-static'], 'from-config');
      assert.equal(h['x-not-listed'], undefined);
      assert.equal(h['x-forward-me-too'], undefined);
    });

    it('with a refresh proxy the connect reply hides expiry and a client refresh is answered by the backend', async () => {
      backend.program = (kind, body) => {
        if (kind === 'connect') return { body: { result: { user: 'x1', expire_at: now() + 600 } } };
        if (kind === 'refresh') return { body: { result: { expire_at: now() + 100 } } };
        return grantAll(kind, body);
      };
      const ws = new WebSocket(gyre.url);
      ws.on('error', () => undefined);
      await new Promise((r) => ws.once('open', r));
      interface Frame {
        id?: number;
        connect?: { expires?: boolean };
        refresh?: { expires?: boolean; ttl: number };
      }
      const replies: Frame[] = [];
      ws.on('message', (m: Buffer) => {
        for (const line of m.toString().split('\n')) if (line !== '') replies.push(JSON.parse(line) as Frame);
      });
      ws.send(JSON.stringify({ id: 1, connect: {} }));
      await waitFor(() => replies.find((r) => r.id === 1), { what: 'connect reply' });
      ws.send(JSON.stringify({ id: 2, refresh: {} }));
      const refresh = await waitFor(() => replies.find((r) => r.id === 2), { what: 'refresh reply' });
      ws.terminate();
      const connect = replies.find((r) => r.id === 1)!;
      assert.equal(connect.connect?.expires, undefined, JSON.stringify(connect));
      assert.equal(refresh.refresh?.expires, true, JSON.stringify(refresh));
      assert.ok(refresh.refresh !== undefined && refresh.refresh.ttl > 0 && refresh.refresh.ttl <= 100, JSON.stringify(refresh));
      assert.equal(lastCall('refresh')!.body.user, 'x1');
      backend.program = grantAll;
    });

    it("passes the backend's error and disconnect to the client", async () => {
      backend.program = (kind) => (kind === 'connect' ? { body: { error: { code: 4000, message: 'try later', temporary: true } } } : grantAll(kind, {}));
      const a = pool.json(gyre.url).client;
      const err = nextEvent<{ type: string; error: { code: number } }>(a, 'error');
      a.connect();
      assert.equal((await err).error.code, 4000);
      a.disconnect();
      backend.program = (kind) => (kind === 'connect' ? { body: { disconnect: { code: 4501, reason: 'banned' } } } : grantAll(kind, {}));
      const b = pool.json(gyre.url).client;
      const gone = nextEvent<{ code: number; reason: string }>(b, 'disconnected');
      b.connect();
      const d = await gone;
      assert.equal(d.code, 4501);
      assert.equal(d.reason, 'banned');
    });

    it('a backend answering garbage gives 100 and the server keeps serving', async () => {
      backend.program = (kind) => (kind === 'connect' ? { garbage: true } : grantAll(kind, {}));
      const a = pool.json(gyre.url).client;
      const err = nextEvent<{ error: { code: number } }>(a, 'error');
      a.connect();
      assert.equal((await err).error.code, 100);
      a.disconnect();
      backend.program = grantAll;
      const { ctx } = await connected();
      assert.ok(ctx.client !== '');
    });

    it('an answer without credentials closes with 3501, like Centrifugo', async () => {
      backend.program = (kind) => (kind === 'connect' ? { body: {} } : grantAll(kind, {}));
      const a = pool.json(gyre.url).client;
      const gone = nextEvent<{ code: number }>(a, 'disconnected');
      a.connect();
      assert.equal((await gone).code, 3501);
      backend.program = grantAll;
    });

    it('a dead connect backend gives a timely 100 and the client keeps retrying', async () => {
      const { client } = pool.json(deadGyre.url);
      const codes: number[] = [];
      client.on('error', (e) => codes.push(e.error.code));
      client.connect();
      await waitFor(() => codes.length >= 2, { what: 'two connect attempts answered' });
      assert.deepEqual(codes.slice(0, 2), [100, 100]);
      assert.equal(client.state, 'connecting');
      client.disconnect();
    });
  });

  describe(`proxies over ${mode}: metrics`, () => {
    it('centrifugo_proxy_* move with a proxied connect; a dead backend counts errors', async () => {
      const labels = { protocol: mode, type: 'connect', name: 'default' };
      const count = async (g: GyreProcess, name: string) => total(await scrape(`${g.baseUrl}/metrics`), name, labels);
      const calls = await count(gyre, 'centrifugo_proxy_duration_seconds_histogram_count');
      const before = await count(gyre, 'centrifugo_proxy_errors'); // earlier tests had garbage answers
      const { client } = await connected();
      client.disconnect();
      assert.equal(await count(gyre, 'centrifugo_proxy_duration_seconds_histogram_count'), calls + 1);
      assert.equal(await count(gyre, 'centrifugo_proxy_duration_seconds_count'), calls + 1);
      assert.equal(await count(gyre, 'centrifugo_proxy_inflight_requests'), 0);
      assert.equal(await count(gyre, 'centrifugo_proxy_errors'), before, 'a granted connect is no error');

      // Series of a configured proxy exist at 0 before its first call, as in Centrifugo (the rpc tests come later).
      const idle = { protocol: mode, type: 'rpc', name: 'bin' };
      const samples = (await scrape(`${gyre.baseUrl}/metrics`)).samples.filter((x) => x.name === 'centrifugo_proxy_errors');
      assert.ok(samples.some((x) => Object.entries(idle).every(([k, v]) => x.labels[k] === v) && x.value === 0), 'idle rpc proxy series');

      const errors = await count(deadGyre, 'centrifugo_proxy_errors');
      const dead = pool.json(deadGyre.url).client;
      const failed = nextEvent(dead, 'error');
      dead.connect();
      await failed;
      dead.disconnect();
      assert.ok((await count(deadGyre, 'centrifugo_proxy_errors')) > errors);
    });
  });

  describe(`proxies over ${mode}: rpc`, () => {
    it('returns the backend data and sends the connection meta', async () => {
      backend.program = (kind, body) =>
        kind === 'rpc' ? { body: { result: { data: { echo: body.data, method: body.method } } } } : grantAll(kind, body);
      const { client, ctx } = await connected();
      const r = await client.rpc('sum', { a: 1 });
      assert.deepEqual(r.data, { echo: { a: 1 }, method: 'sum' });
      const req = lastCall('rpc')!.body;
      assert.equal(req.user, 'u1');
      assert.equal(req.client, ctx.client);
      assert.deepEqual(req.meta, { plan: 'gold' });
      client.disconnect();
    });

    it('maps backend errors, disconnects and unknown namespaces to codes', async () => {
      backend.program = (kind) => (kind === 'rpc' ? { body: { error: { code: 1001, message: 'nope' } } } : grantAll(kind, {}));
      const { client } = await connected();
      await assert.rejects(client.rpc('m', {}), (e) => errCode(e) === 1001);
      await assert.rejects(client.rpc('nosuch:m', {}), (e) => errCode(e) === 104);
      await assert.rejects(client.rpc('off:m', {}), (e) => errCode(e) === 108);
      if (mode === 'http') {
        backend.program = (kind) => (kind === 'rpc' ? { status: 404 } : grantAll(kind, {}));
        await assert.rejects(client.rpc('m', {}), (e) => errCode(e) === 4404);
        backend.program = (kind) => (kind === 'rpc' ? { status: 500 } : grantAll(kind, {}));
        await assert.rejects(client.rpc('m', {}), (e) => errCode(e) === 100);
      } else {
        backend.program = (kind) => (kind === 'rpc' ? { status: 500 } : grantAll(kind, {}));
        await assert.rejects(client.rpc('m', {}), (e) => errCode(e) === 100);
      }
      backend.program = (kind) => (kind === 'rpc' ? { garbage: true } : grantAll(kind, {}));
      await assert.rejects(client.rpc('m', {}), (e) => errCode(e) === 100);
      backend.program = (kind) => (kind === 'rpc' ? { body: { disconnect: { code: 4999, reason: 'bye' } } } : grantAll(kind, {}));
      const gone = nextEvent<{ code: number }>(client, 'disconnected');
      client.rpc('m', {}).catch(() => undefined);
      assert.equal((await gone).code, 4999);
      backend.program = grantAll;
    });

    it('a slow backend and a dead one give a timely 100, then the connection still works', async () => {
      backend.program = grantAll;
      const { client } = await connected();
      await assert.rejects(client.rpc('slow:m', {}), (e) => errCode(e) === 100);
      await assert.rejects(client.rpc('dead:m', {}), (e) => errCode(e) === 100);
      assert.equal(slow.calls.filter((c) => c.kind === 'rpc').length, 1);
      const r = await client.rpc('m', {});
      assert.equal(client.state, 'connected');
      assert.deepEqual(r.data, undefined);
      client.disconnect();
    });

    it('binary_encoding sends b64data and decodes b64data', async () => {
      backend.program = (kind, body) =>
        kind === 'rpc' ? { body: { result: { b64data: b64({ got: body.b64data, enc: body.encoding }) } } } : grantAll(kind, body);
      const { client } = await connected();
      const r = await client.rpc('bin:m', { x: 1 });
      assert.deepEqual(r.data, { got: b64({ x: 1 }), enc: 'binary' });
      backend.program = grantAll;
      client.disconnect();
    });
  });

  describe(`proxies over ${mode}: subscribe and publish`, () => {
    it('a granted subscription gets the backend info, data and override', async () => {
      backend.program = (kind, body) =>
        kind === 'subscribe'
          ? { body: { result: { info: { seat: 1 }, data: { asked: body.data }, override: { presence: { value: false } } } } }
          : grantAll(kind, body);
      const { client } = await connected();
      const sub = client.newSubscription('px:room', { data: { want: 'in' } });
      const ok = nextEvent<{ data?: unknown }>(sub, 'subscribed');
      sub.subscribe();
      assert.deepEqual((await ok).data, { asked: { want: 'in' } });
      const req = lastCall('subscribe')!.body;
      assert.equal(req.channel, 'px:room');
      assert.equal(req.user, 'u1');
      assert.deepEqual(req.meta, { plan: 'gold' });
      // override presence=false: this connection is not in the channel's presence.
      const presence = await sub.presence();
      assert.deepEqual(Object.keys(presence.clients), []);
      client.disconnect();
    });

    it('refusals, a slow backend and garbage reach the subscription as codes', async () => {
      backend.program = (kind) => (kind === 'subscribe' ? { body: { error: { code: 403, message: 'not yours' } } } : grantAll(kind, {}));
      const { client } = await connected();
      // A temporary error is an `error` event (the client retries); a permanent one unsubscribes with its code.
      const subErr = async (s: Subscription): Promise<number> => {
        const e = new Promise<number>((resolve) => {
          s.on('error', (c) => resolve(c.error.code));
          s.on('unsubscribed', (c) => resolve(c.code));
        });
        s.subscribe();
        const code = await withTimeout(e, 10_000, 'subscription refused');
        s.unsubscribe();
        client.removeSubscription(s);
        return code;
      };
      assert.equal(await subErr(client.newSubscription('px:a')), 403);
      assert.equal(await subErr(client.newSubscription('slowsub:a')), 100);
      backend.program = (kind) => (kind === 'subscribe' ? { garbage: true } : grantAll(kind, {}));
      assert.equal(await subErr(client.newSubscription('px:b')), 100);
      backend.program = grantAll;
      const ok = client.newSubscription('px:c');
      ok.subscribe();
      await nextEvent(ok, 'subscribed');
      client.disconnect();
    });

    it('the publish proxy decides and may replace the data', async () => {
      backend.program = (kind, body) =>
        kind === 'publish' ? { body: { result: { data: { approved: body.data } } } } : grantAll(kind, body);
      const { client } = await connected();
      const sub = client.newSubscription('px:pub');
      const got = nextEvent<{ data: unknown }>(sub, 'publication');
      sub.subscribe();
      await nextEvent(sub, 'subscribed');
      await sub.publish({ text: 'hi' });
      assert.deepEqual((await got).data, { approved: { text: 'hi' } });
      backend.program = (kind) => (kind === 'publish' ? { body: { error: { code: 1403, message: 'moderated' } } } : grantAll(kind, {}));
      await assert.rejects(sub.publish({ text: 'bad' }), (e) => errCode(e) === 1403);
      backend.program = grantAll;
      client.disconnect();
    });
  });

  describe(`proxies over ${mode}: server-side refresh`, () => {
    it('the refresh proxy extends the connection, then ends it with 3005 when expired', async () => {
      let refreshes = 0;
      backend.program = (kind, body) => {
        if (kind === 'connect') return { body: { result: { user: 'r1', expire_at: now() + 1, meta: { m: 1 } } } };
        if (kind === 'refresh') {
          refreshes++;
          return { body: { result: refreshes === 1 ? { expire_at: now() + 1 } : { expired: true } } };
        }
        return grantAll(kind, body);
      };
      const { client } = await connected();
      const connecting = nextEvent<{ code: number }>(client, 'connecting', 15_000);
      assert.equal((await connecting).code, 3005);
      assert.equal(refreshes, 2);
      const req = lastCall('refresh')!.body;
      assert.equal(req.user, 'r1');
      assert.deepEqual(req.meta, { m: 1 });
      client.disconnect();
      backend.program = grantAll;
    });

    it('the sub_refresh proxy extends a subscription, then ends it with 2501 when expired', async () => {
      let refreshes = 0;
      backend.program = (kind, body) => {
        if (kind === 'subscribe') return { body: { result: { expire_at: now() + 1 } } };
        if (kind === 'sub_refresh') {
          refreshes++;
          return { body: { result: refreshes === 1 ? { expire_at: now() + 1 } : { expired: true } } };
        }
        return grantAll(kind, body);
      };
      const { client } = await connected();
      const sub = client.newSubscription('sr:x');
      sub.subscribe();
      await nextEvent(sub, 'subscribed');
      const again = nextEvent<{ code: number }>(sub, 'subscribing', 15_000);
      assert.equal((await again).code, 2501);
      assert.ok(refreshes >= 2);
      assert.equal(lastCall('sub_refresh')!.body.channel, 'sr:x');
      client.disconnect();
      backend.program = grantAll;
    });
  });
}
