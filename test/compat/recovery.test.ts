// Stream recovery after a server-driven transport cut, with centrifuge-js 5.7.4 and cent.js
// (docs/protocol.md §2.3 3011, §5.1–5.3, §5.7, §10.5).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type {
  ConnectingContext,
  PublicationContext,
  ServerPublicationContext,
  ServerSubscribedContext,
  SubscribedContext,
} from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, ClientPool, collect, isRecord } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

describe('compat: recovery', () => {
  let gyre: GyreProcess;
  let cent: CentClient;
  const pool = new ClientPool();
  before(async () => {
    gyre = await startGyre(baseConfig());
    cent = new CentClient({ url: gyre.apiUrl, apiKey: API_KEY });
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  /**
   * Subscribes `user` to `channel`, receives `before` live publications, then has the server cut the connection
   * with 3011 "force reconnect" (or cuts the socket abruptly) and publishes `missed` messages while the client is
   * held away. Returns the subscription events seen after the reconnect.
   */
  async function cutAndPublish(user: string, channel: string, before: number, missed: number, cut: 'server' | 'socket' = 'server') {
    const token = await connToken({ sub: user, expIn: 3600 });
    // centrifuge-js awaits getData() before every (re)connect: a gate there keeps the client away, deterministically,
    // until the missed publications are in.
    let gate: Promise<void> = Promise.resolve();
    let openGate = (): void => undefined;
    const { client, rec } = pool.json(gyre.url, {
      token,
      getData: async () => {
        await gate;
        return null;
      },
    });
    const sub = client.newSubscription(channel);
    const subscribed = collect<SubscribedContext>(sub, 'subscribed');
    const pubs = collect<PublicationContext>(sub, 'publication');
    sub.subscribe();
    client.connect();
    await waitFor(() => subscribed.length === 1, { what: 'first subscribed' });
    assert.equal(subscribed[0]?.recoverable, true);
    assert.equal(subscribed[0]?.positioned, true);
    const epoch = subscribed[0]?.streamPosition?.epoch ?? '';
    for (let i = 1; i <= before; i++) await cent.publish({ channel, data: { n: i } });
    await waitFor(() => pubs.length === before, { what: `${before} live publications` });

    gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const connecting = nextEvent<ConnectingContext>(client, 'connecting');
    if (cut === 'server') {
      const disc = { user, disconnect: { code: 3011, reason: 'force reconnect' } };
      assert.deepEqual(await cent.disconnect(disc), {});
      const cctx = await connecting;
      assert.deepEqual({ code: cctx.code, reason: cctx.reason }, { code: 3011, reason: 'force reconnect' });
    } else {
      rec.sockets[0]?.terminate(); // abrupt TCP cut, no close frame
      const cctx = await connecting;
      assert.equal(cctx.code, 1, 'client code 1 "transport closed"');
      // The server notices the dead socket and drops the subscriber before the missed publications go out.
      await waitFor(async () => !(channel in (await cent.getChannels({ pattern: channel })).channels), {
        what: 'server to drop the cut connection',
      });
    }
    const positions: Array<{ offset?: number; epoch?: string }> = [];
    for (let i = 1; i <= missed; i++) positions.push(await cent.publish({ channel, data: { n: before + i } }));
    assert.equal(pubs.length, before, 'nothing delivered while away');
    openGate();
    await waitFor(() => subscribed.length === 2, { timeoutMs: 15_000, what: 'resubscribe after reconnect' });
    return { client, rec, sub, subscribed, pubs, epoch, positions };
  }

  it('recovers the publications missed while away, exactly once and in order', async () => {
    const r = await cutAndPublish('rina', 'rec:feed', 2, 5);
    assert.deepEqual(r.positions.map((p) => p.offset), [3, 4, 5, 6, 7]);
    assert.ok(r.positions.every((p) => p.epoch === r.epoch && r.epoch !== ''), 'same epoch');
    const ctx = r.subscribed[1];
    assert.ok(ctx);
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    assert.equal(ctx.hasRecoveredPublications, true);
    await waitFor(() => r.pubs.length >= 7, { what: '7 publications' });
    // One more live publication after recovery continues the sequence.
    await cent.publish({ channel: 'rec:feed', data: { n: 8 } });
    await waitFor(() => r.pubs.length >= 8, { what: '8 publications' });
    assert.deepEqual(
      r.pubs.map((p) => p.data),
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ n })),
    );
    assert.deepEqual(r.pubs.map((p) => p.offset), [1, 2, 3, 4, 5, 6, 7, 8]);

    // Wire check (§5.3): the resubscribe carried recover/offset/epoch and the reply echoes the client's offset.
    const replies = r.rec.messages().filter((m) => isRecord(m) && isRecord(m['subscribe']));
    const last = replies[replies.length - 1];
    assert.ok(isRecord(last));
    const res = last['subscribe'];
    assert.ok(isRecord(res));
    assert.equal(res['recovered'], true);
    assert.equal(res['was_recovering'], true);
    assert.equal(res['offset'], 2);
    assert.equal(res['epoch'], r.epoch);
    assert.equal(res['recoverable'], true);
    assert.equal(res['positioned'], true);
    assert.deepEqual(
      (res['publications'] as Array<Record<string, unknown>>).map((p) => p['offset']),
      [3, 4, 5, 6, 7],
    );
  });

  it('recovers after an abrupt client-side socket cut too', async () => {
    const r = await cutAndPublish('rolf', 'rec:cut', 1, 3, 'socket');
    const ctx = r.subscribed[1];
    assert.ok(ctx);
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    await waitFor(() => r.pubs.length >= 4, { what: '4 publications' });
    assert.deepEqual(r.pubs.map((p) => p.offset), [1, 2, 3, 4]);
    assert.deepEqual(r.pubs.map((p) => p.data), [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
  });

  it('gap larger than history_size ⇒ wasRecovering true, recovered false, no missed publications', async () => {
    const r = await cutAndPublish('uma', 'small:feed', 1, 5);
    const ctx = r.subscribed[1];
    assert.ok(ctx);
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, false);
    assert.equal(ctx.hasRecoveredPublications, false);
    assert.equal(ctx.streamPosition?.offset, 6, 'position jumps to the current top');
    assert.equal(ctx.streamPosition?.epoch, r.epoch);
    // Live publications continue from the new position.
    await cent.publish({ channel: 'small:feed', data: { n: 7 } });
    await waitFor(() => r.pubs.length === 2, { what: 'next live publication' });
    assert.deepEqual(r.pubs.map((p) => p.offset), [1, 7]);
  });

  it('subscribe while publications stream in: reply first, then contiguous offsets without gaps or duplicates', async () => {
    const ch = 'rec:race';
    const total = 60;
    let published = 0;
    const publishing = (async () => {
      for (let i = 1; i <= total; i++) {
        await cent.publish({ channel: ch, data: { i } });
        published = i;
      }
    })();
    await waitFor(() => published >= 10, { what: '10 publications before subscribing' });
    const { client, rec } = pool.json(gyre.url, { token: await connToken({ sub: 'race', expIn: 3600 }) });
    const sub = client.newSubscription(ch);
    const pubs = collect<PublicationContext>(sub, 'publication');
    const subscribed = nextEvent<SubscribedContext>(sub, 'subscribed');
    sub.subscribe();
    client.connect();
    const ctx = await subscribed;
    await publishing;
    await waitFor(() => pubs[pubs.length - 1]?.offset === total, { what: `offset ${total} delivered` });
    const start = ctx.streamPosition?.offset ?? -1;
    assert.ok(start >= 10 && start <= total, `subscribed at offset ${start}`);
    assert.deepEqual(
      pubs.map((p) => p.offset),
      Array.from({ length: total - start }, (_, k) => start + k + 1),
    );
    // On the wire the subscribe reply precedes every push of the channel (§1.11).
    const msgs = rec.messages();
    const replyIdx = msgs.findIndex((m) => isRecord(m) && isRecord(m['subscribe']));
    const firstPush = msgs.findIndex((m) => isRecord(m) && isRecord(m['push']) && m['push']['channel'] === ch);
    assert.ok(replyIdx >= 0 && (firstPush === -1 || replyIdx < firstPush), `reply at ${replyIdx}, first push at ${firstPush}`);
  });

  it('cache recovery mode: `since: {}` ⇒ recovered with only the latest publication', async () => {
    const ch = 'cache:last';
    for (let i = 1; i <= 3; i++) await cent.publish({ channel: ch, data: { v: i } });
    const { client } = pool.json(gyre.url, { token: await connToken({ sub: 'cachy', expIn: 3600 }) });
    const sub = client.newSubscription(ch, { since: {} });
    const pubs = collect<PublicationContext>(sub, 'publication');
    const subscribed = nextEvent<SubscribedContext>(sub, 'subscribed');
    sub.subscribe();
    client.connect();
    const ctx = await subscribed;
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    assert.equal(ctx.hasRecoveredPublications, true);
    await waitFor(() => pubs.length === 1, { what: 'latest publication' });
    assert.deepEqual(pubs[0]?.data, { v: 3 });
    assert.equal(pubs[0]?.offset, 3);
  });

  it('server-side (token) subscription recovers through connect.subs after a cut', async () => {
    const ch = 'srv:recover';
    let gate: Promise<void> = Promise.resolve();
    let openGate = (): void => undefined;
    const { client } = pool.json(gyre.url, {
      token: await connToken({ sub: 'srvrec', expIn: 3600, channels: [ch] }),
      getData: async () => {
        await gate;
        return null;
      },
    });
    const subscribed = collect<ServerSubscribedContext>(client, 'subscribed');
    const pubs = collect<ServerPublicationContext>(client, 'publication');
    client.connect();
    await waitFor(() => subscribed.length === 1, { what: 'server-side subscribed' });
    assert.equal(subscribed[0]?.recoverable, true);
    await cent.publish({ channel: ch, data: { s: 1 } });
    await waitFor(() => pubs.length === 1, { what: 'first live publication' });

    gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const connecting = nextEvent<ConnectingContext>(client, 'connecting');
    await cent.disconnect({ user: 'srvrec', disconnect: { code: 3011, reason: 'force reconnect' } } as { user: string });
    assert.equal((await connecting).code, 3011);
    for (let i = 2; i <= 4; i++) await cent.publish({ channel: ch, data: { s: i } });
    openGate();
    await waitFor(() => subscribed.length === 2, { what: 'server-side resubscribed' });
    assert.equal(subscribed[1]?.wasRecovering, true);
    assert.equal(subscribed[1]?.recovered, true);
    await waitFor(() => pubs.length >= 4, { what: 'recovered publications' });
    assert.deepEqual(pubs.map((p) => p.data), [{ s: 1 }, { s: 2 }, { s: 3 }, { s: 4 }]);
    assert.deepEqual(pubs.map((p) => p.offset), [1, 2, 3, 4]);
  });
});
