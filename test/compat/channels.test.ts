// Subscribe / publish / unsubscribe and channel permissions with centrifuge-js 5.7.4
// (docs/protocol.md §1.5, §1.7, §2.1, §3.3, §4.1, §4.3, §4.4, §4.6).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublicationContext, UnsubscribedContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, ClientPool, isRecord, type TestClient } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken, subToken } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';
import { subscribeOutcome } from './outcome.js';

describe('compat: channels and permissions', () => {
  let gyre: GyreProcess;
  let cent: CentClient;
  const pool = new ClientPool();

  const connected = (user: string): Promise<TestClient> =>
    pool.connected(gyre.url, { sub: user, expIn: 3600, info: { name: user } });

  before(async () => {
    gyre = await startGyre(baseConfig());
    cent = new CentClient({ url: gyre.apiUrl, apiKey: API_KEY });
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('subscribe → publish → receive → unsubscribe round trip', async () => {
    const { client } = await connected('alice');
    const sub = client.newSubscription('open:room');
    const out = await subscribeOutcome(sub);
    assert.equal(out.kind, 'subscribed');
    assert.equal(out.ctx.channel, 'open:room');
    assert.equal(out.ctx.recoverable, false);
    assert.equal(out.ctx.positioned, false);

    // Client publish: delivered back to the publisher with its ClientInfo (conn_info from the token).
    const got = nextEvent<PublicationContext>(sub, 'publication');
    const res = await sub.publish({ text: 'hello' });
    assert.deepEqual(res, {});
    const pub = await got;
    assert.equal(pub.channel, 'open:room');
    assert.deepEqual(pub.data, { text: 'hello' });
    assert.equal(pub.info?.user, 'alice');
    assert.deepEqual(pub.info?.connInfo, { name: 'alice' });
    assert.equal(pub.offset ?? 0, 0, 'no offset without history');

    // API publish: no publisher info.
    const got2 = nextEvent<PublicationContext>(sub, 'publication');
    assert.deepEqual(await cent.publish({ channel: 'open:room', data: { text: 'from api' } }), {});
    const pub2 = await got2;
    assert.deepEqual(pub2.data, { text: 'from api' });
    assert.equal(pub2.info, undefined);

    const un = nextEvent<UnsubscribedContext>(sub, 'unsubscribed');
    sub.unsubscribe();
    const uctx = await un;
    assert.equal(uctx.code, 0);
    // The server no longer counts the channel as active.
    await waitFor(async () => !('open:room' in (await cent.getChannels({ pattern: 'open:*' })).channels), {
      what: 'open:room to leave the channels list',
    });
  });

  it('namespace without allow_* ⇒ subscribe error 103 and unsubscribed with code 103', async () => {
    const { client, rec } = await connected('alice');
    const out = await subscribeOutcome(client.newSubscription('closed:room'));
    assert.equal(out.kind, 'unsubscribed');
    assert.equal(out.ctx.code, 103);
    assert.equal(out.ctx.reason, 'permission denied');
    // Non-temporary errors go straight to unsubscribed (no `error` event, no resubscribe).
    assert.equal(out.errors.length, 0);
    const reply = rec.messages().find((m) => isRecord(m) && isRecord(m['error']));
    assert.ok(isRecord(reply));
    assert.deepEqual(reply['error'], { code: 103, message: 'permission denied' });
  });

  it('publish and presence without permission ⇒ 103 / 108', async () => {
    const { client } = await connected('alice');
    await assert.rejects(client.publish('closed:room', { x: 1 }), (e: unknown) => (e as { code: number }).code === 103);
    // presence is off for `open` ⇒ 108 before the permission check.
    await assert.rejects(client.presence('open:room'), (e: unknown) => (e as { code: number }).code === 108);
    await assert.rejects(client.history('open:room'), (e: unknown) => (e as { code: number }).code === 108);
  });

  it('unknown namespace ⇒ 102 "unknown channel"', async () => {
    const { client } = await connected('alice');
    const out = await subscribeOutcome(client.newSubscription('nope:room'));
    assert.equal(out.kind, 'unsubscribed');
    assert.equal(out.ctx.code, 102);
    assert.equal(out.ctx.reason, 'unknown channel');
    await assert.rejects(client.publish('nope:room', { x: 1 }), (e: unknown) => (e as { code: number }).code === 102);
  });

  it('second subscribe to the same channel on one connection ⇒ 105', async () => {
    // centrifuge-js refuses duplicate subscriptions locally, so check the server through a raw socket.
    const ws = pool.raw(gyre.url);
    await nextEvent(ws, 'open');
    const token = await connToken({ sub: 'alice', expIn: 3600 });
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString('utf8')));
    ws.send(
      `{"connect":{"token":"${token}"},"id":1}\n{"subscribe":{"channel":"open:dup2"},"id":2}\n{"subscribe":{"channel":"open:dup2"},"id":3}`,
    );
    await waitFor(() => frames.join('\n').includes('"id":3'), { what: 'reply 3' });
    const lines = frames.join('\n').split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.find((l) => l['id'] === 2), { id: 2, subscribe: {} });
    assert.deepEqual(lines.find((l) => l['id'] === 3), { id: 3, error: { code: 105, message: 'already subscribed' } });
  });

  it('`$` private channel without token ⇒ 103; with a subscription token ⇒ subscribed (token data returned)', async () => {
    const { client } = await connected('alice');
    const denied = await subscribeOutcome(client.newSubscription('$priv:secret'));
    assert.equal(denied.kind, 'unsubscribed');
    assert.equal(denied.ctx.code, 103);

    let asked = '';
    const sub = client.newSubscription('$priv:vault', {
      getToken: async (ctx) => {
        asked = ctx.channel;
        return await subToken({ sub: 'alice', channel: '$priv:vault', expIn: 3600, data: { welcome: true }, info: { role: 'x' } });
      },
    });
    const ok = await subscribeOutcome(sub);
    assert.equal(asked, '$priv:vault');
    assert.equal(ok.kind, 'subscribed');
    assert.deepEqual(ok.ctx.data, { welcome: true });
  });

  it('subscription token for another channel ⇒ disconnect 3500; for another user ⇒ 3500; bad signature ⇒ 103', async () => {
    const a = await connected('alice');
    const bad = await subscribeOutcome(
      a.client.newSubscription('$priv:k1', { token: await subToken({ sub: 'alice', channel: '$priv:k1', expIn: 60 }, 'wrong-secret-0123456789-abcdef') }),
    );
    assert.equal(bad.kind, 'unsubscribed');
    assert.equal(bad.ctx.code, 103);

    const b = await connected('bob');
    const disc = nextEvent<{ code: number }>(b.client, 'disconnected');
    b.client.newSubscription('$priv:k2', { token: await subToken({ sub: 'bob', channel: '$priv:other', expIn: 60 }) }).subscribe();
    assert.equal((await disc).code, 3500);

    const c = await connected('carol');
    const disc2 = nextEvent<{ code: number }>(c.client, 'disconnected');
    c.client.newSubscription('$priv:k3', { token: await subToken({ sub: 'mallory', channel: '$priv:k3', expIn: 60 }) }).subscribe();
    assert.equal((await disc2).code, 3500);
  });

  it('expired subscription token ⇒ 109, getToken again ⇒ subscribed; short token ⇒ sub_refresh after ttl', async () => {
    const { client, rec } = await connected('alice');
    const issued: number[] = [];
    const sub = client.newSubscription('$priv:refresh', {
      getToken: async () => {
        // 1st: already expired (⇒ 109), 2nd: 3 s (⇒ expires/ttl, then sub_refresh), 3rd: 1 h.
        const expIn = [-30, 3, 3600][issued.length] ?? 3600;
        issued.push(expIn);
        return await subToken({ sub: 'alice', channel: '$priv:refresh', expIn });
      },
      minResubscribeDelay: 50,
      maxResubscribeDelay: 200,
    });
    const out = await subscribeOutcome(sub, 15_000);
    assert.equal(out.kind, 'subscribed');
    assert.equal(out.errors[0]?.error.code, 109, 'the expired token was reported as 109');
    const subReplies = rec.messages().filter((m) => isRecord(m) && isRecord(m['subscribe']));
    const res = (subReplies[subReplies.length - 1] as Record<string, unknown>)['subscribe'];
    assert.ok(isRecord(res));
    assert.equal(res['expires'], true);
    assert.ok((res['ttl'] as number) >= 1 && (res['ttl'] as number) <= 3, `ttl ${String(res['ttl'])}`);
    const refreshed = await waitFor(() => rec.messages().find((m) => isRecord(m) && isRecord(m['sub_refresh'])), {
      timeoutMs: 15_000,
      what: 'sub_refresh reply',
    });
    assert.ok(isRecord(refreshed) && isRecord(refreshed['sub_refresh']));
    assert.equal(refreshed['sub_refresh']['expires'], true);
    const ttl = refreshed['sub_refresh']['ttl'] as number;
    assert.ok(ttl > 3590 && ttl <= 3600, `refreshed ttl ${ttl}`);
    assert.deepEqual(issued, [-30, 3, 3600]);
    assert.equal(sub.state, 'subscribed');
  });

  it('channel name longer than channel.max_length (255) ⇒ 107', async () => {
    const { client } = await connected('alice');
    const out = await subscribeOutcome(client.newSubscription(`open:${'x'.repeat(260)}`));
    assert.equal(out.kind, 'unsubscribed');
    assert.equal(out.ctx.code, 107);
  });

  it('user-limited channel `#`: listed user ⇒ subscribed, other user ⇒ 103', async () => {
    const { client } = await connected('alice');
    assert.equal((await subscribeOutcome(client.newSubscription('users:#alice,bob'))).kind, 'subscribed');
    const denied = await subscribeOutcome(client.newSubscription('users:#bob'));
    assert.equal(denied.kind, 'unsubscribed');
    assert.equal(denied.ctx.code, 103);
  });
});
