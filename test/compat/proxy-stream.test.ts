// Subscribe stream proxies (docs/proxy.md): the official centrifuge client subscribes to channels whose namespace
// streams from a real grpc-js backend (test/harness/stream-backend.ts). The same scenarios run against Gyre and,
// as the oracle, against real Centrifugo 6.9.1 when its binary is installed: the backend's first answer decides
// (result data, error, disconnect; a silent or malformed first message is 100), later messages reach only that
// subscriber, the stream ends when the subscription does, a backend ending the stream unsubscribes the client
// (2000 clean, 2500 otherwise, after which the client subscribes again), and on a bidirectional namespace the
// client's publications go into its own stream.
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Centrifuge, Subscription } from 'centrifuge';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/index.js';
import { findCentrifugo, startCentrifugo } from '../harness/centrifugo.js';
import { API_KEY, ClientPool, collect } from '../harness/clients.js';
import { startGyre } from '../harness/gyre.js';
import { startStreamBackend, type OpenedStream, type StreamBackend } from '../harness/stream-backend.js';
import { TEST_HMAC_SECRET } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';

interface Server {
  url: string;
  stop(): Promise<unknown>;
}

function config(endpoint: string): Record<string, unknown> {
  return {
    log: { level: 'warn' },
    client: { token: { hmac_secret_key: TEST_HMAC_SECRET } },
    http_api: { key: API_KEY },
    health: { enabled: true },
    channel: {
      proxy: { subscribe_stream: { endpoint, timeout: '500ms', include_connection_meta: true } },
      namespaces: [
        { name: 'feed', subscribe_stream_proxy_enabled: true },
        { name: 'chat', subscribe_stream_proxy_enabled: true, subscribe_stream_proxy_bidirectional: true },
      ],
    },
  };
}

function errCode(e: unknown): number | undefined {
  const err = (e as { code?: number; error?: { code?: number } }) ?? {};
  return err.error?.code ?? err.code;
}

function streamSuite(target: 'gyre' | 'centrifugo'): void {
  const skip = target === 'centrifugo' && findCentrifugo() === undefined ? 'the centrifugo binary is not installed' : false;
  describe(`subscribe stream proxy (${target})`, { skip }, () => {
    let backend: StreamBackend;
    let server: Server;
    const pool = new ClientPool();

    before(async () => {
      backend = await startStreamBackend((req) => {
        switch (req['channel']) {
          case 'feed:deny':
            return { response: { error: { code: 4001, message: 'nope' } } };
          case 'feed:kick':
            return { response: { disconnect: { code: 4500, reason: 'bye' } } };
          case 'feed:silent':
            return { silent: true };
          case 'feed:early':
            return { publicationFirst: true };
          default:
            return { response: { result: { data: { hello: req['channel'] } } } };
        }
      });
      server = target === 'gyre' ? await startGyre(config(backend.endpoint)) : await startCentrifugo(config(backend.endpoint));
    });

    after(async () => {
      pool.closeAll();
      await server?.stop();
      await backend?.close();
    });

    const streamsOf = (channel: string): OpenedStream[] => backend.streams.filter((s) => s.request['channel'] === channel);
    const openStream = (channel: string, nth = 0): Promise<OpenedStream> =>
      waitFor(() => streamsOf(channel)[nth], { what: `stream ${nth} of ${channel}` });

    async function subscribed(client: Centrifuge, channel: string): Promise<{ sub: Subscription; data: unknown }> {
      const sub = client.newSubscription(channel);
      const p = nextEvent<{ data?: unknown }>(sub, 'subscribed');
      sub.subscribe();
      return { sub, data: (await p).data };
    }

    it('the first message grants the subscription; publications reach the subscriber in order; unsubscribe ends the stream', async () => {
      const { client, id } = await pool.connected(server.url, { sub: 'u1' });
      const { sub, data } = await subscribed(client, 'feed:a');
      assert.deepEqual(data, { hello: 'feed:a' });
      const stream = await openStream('feed:a');
      assert.equal(stream.bidirectional, false);
      assert.deepEqual(
        { ...stream.request },
        { client: id, transport: 'websocket', protocol: 'json', encoding: 'json', user: 'u1', channel: 'feed:a' },
      );
      const pubs = collect<{ data: unknown; tags?: Record<string, string> }>(sub, 'publication');
      stream.publish({ n: 1 });
      stream.publish({ n: 2 });
      stream.publish({ n: 3 }, { kind: 'last' });
      await waitFor(() => pubs.length === 3, { what: 'three publications' });
      assert.deepEqual(pubs.map((p) => p.data), [{ n: 1 }, { n: 2 }, { n: 3 }]);
      assert.deepEqual(pubs[2]?.tags, { kind: 'last' });
      // A unidirectional stream takes no client publications.
      await assert.rejects(sub.publish({ no: 1 }), (e) => errCode(e) === 108);
      sub.unsubscribe();
      await waitFor(() => stream.cancelled, { what: 'stream cancelled on unsubscribe' });
    });

    it('the backend ending its stream unsubscribes the client: 2000 when clean, 2500 (then a new stream) otherwise', async () => {
      const { client } = await pool.connected(server.url, { sub: 'u2' });
      const clean = await subscribed(client, 'feed:clean');
      const unsub = nextEvent<{ code: number }>(clean.sub, 'unsubscribed');
      (await openStream('feed:clean')).end();
      assert.equal((await unsub).code, 2000);

      const broken = await subscribed(client, 'feed:broken');
      const again = nextEvent(broken.sub, 'subscribing');
      (await openStream('feed:broken')).fail();
      assert.equal((await again as { code: number }).code, 2500);
      await nextEvent(broken.sub, 'subscribed');
      const second = await openStream('feed:broken', 1);
      assert.equal(second.cancelled, false);
    });

    it("the backend's error and disconnect reach the client; a silent or malformed first message is 100", async () => {
      const { client } = await pool.connected(server.url, { sub: 'u3' });
      const deny = client.newSubscription('feed:deny');
      const denied = nextEvent<{ code: number }>(deny, 'unsubscribed');
      deny.subscribe();
      assert.equal((await denied).code, 4001);

      for (const channel of ['feed:silent', 'feed:early']) {
        const s = client.newSubscription(channel);
        const failed = nextEvent<{ error: { code: number } }>(s, 'error');
        s.subscribe();
        assert.equal((await failed).error.code, 100, channel);
        s.unsubscribe();
        // The server gave up on that stream.
        await waitFor(() => streamsOf(channel)[0]?.cancelled, { what: `${channel} cancelled` });
      }

      const gone = nextEvent<{ code: number }>(client, 'disconnected');
      client.newSubscription('feed:kick').subscribe();
      assert.equal((await gone).code, 4500);
    });

    it('bidirectional: a client publication goes into its own stream only, and the answer only to that client', async () => {
      const a = await pool.connected(server.url, { sub: 'ua' });
      const b = await pool.connected(server.url, { sub: 'ub' });
      const subA = (await subscribed(a.client, 'chat:room')).sub;
      const subB = (await subscribed(b.client, 'chat:room')).sub;
      const [s1, s2] = [await openStream('chat:room', 0), await openStream('chat:room', 1)];
      const streamA = s1.request['client'] === a.id ? s1 : s2;
      const streamB = streamA === s1 ? s2 : s1;
      assert.equal(streamA.bidirectional, true);
      await subA.publish({ text: 'hi' });
      await waitFor(() => streamA.published.length === 1, { what: 'publication in the stream' });
      assert.deepEqual(streamA.published, [{ text: 'hi' }]);
      assert.deepEqual(streamB.published, []);
      const gotA = collect<{ data: unknown }>(subA, 'publication');
      const gotB = collect<{ data: unknown }>(subB, 'publication');
      streamA.publish({ echo: 'hi' });
      streamB.publish({ to: 'b' });
      await waitFor(() => gotA.length === 1 && gotB.length === 1, { what: 'answers' });
      assert.deepEqual(gotA.map((p) => p.data), [{ echo: 'hi' }]);
      assert.deepEqual(gotB.map((p) => p.data), [{ to: 'b' }]);
      // A disconnect ends every stream of the connection.
      a.client.disconnect();
      await waitFor(() => streamA.cancelled, { what: 'stream cancelled on disconnect' });
      assert.equal(streamB.cancelled, false);
    });
  });
}

streamSuite('gyre');
streamSuite('centrifugo');

describe('subscribe stream proxy config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-stream-cfg-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  function refusedAt(tree: Record<string, unknown>): string {
    const file = join(dir, `c${n++}.json`);
    writeFileSync(file, JSON.stringify(tree));
    try {
      loadConfig({ file, env: {} });
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.path;
    }
    assert.fail('accepted');
  }
  const ns = (o: Record<string, unknown>, endpoint = '127.0.0.1:9'): Record<string, unknown> => ({
    channel: { proxy: { subscribe_stream: { endpoint } }, namespaces: [{ name: 's', subscribe_stream_proxy_enabled: true, ...o }] },
  });

  it('refuses an HTTP endpoint, a missing endpoint or name, and a mix with the subscribe, publish or sub_refresh proxy', () => {
    assert.equal(refusedAt(ns({}, 'http://127.0.0.1:9/stream')), 'channel.proxy.subscribe_stream.endpoint');
    assert.equal(refusedAt(ns({}, '')), 'channel.proxy.subscribe_stream.endpoint');
    assert.equal(refusedAt(ns({ subscribe_stream_proxy_name: 'nope' })), 'channel.namespaces[0].subscribe_stream_proxy_name');
    for (const k of ['subscribe_proxy_enabled', 'publish_proxy_enabled', 'sub_refresh_proxy_enabled']) {
      const tree = ns({ [k]: true });
      (tree['channel'] as Record<string, unknown>)['proxy'] = {
        subscribe_stream: { endpoint: '127.0.0.1:9' },
        subscribe: { endpoint: '127.0.0.1:9' },
        publish: { endpoint: '127.0.0.1:9' },
        sub_refresh: { endpoint: '127.0.0.1:9' },
      };
      assert.equal(refusedAt(tree), 'channel.namespaces[0].subscribe_stream_proxy_enabled', k);
    }
  });
});
