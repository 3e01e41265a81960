// history (docs/protocol.md §5.5), refresh (§3.4), sub_refresh (§3.5), server-side subscriptions at connect (§4.7).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { namespace } from './config-fixture.js';
import { Client, makeNode, settle, tok, type Json, type TestNode } from './core-harness.js';

let tn: TestNode | undefined;
afterEach(async () => {
  await tn?.close();
  tn = undefined;
});

const code = (r: Json): number | undefined => (r['error'] as { code: number } | undefined)?.code;
const enc = new TextEncoder();
const now = (): number => Math.floor(Date.now() / 1000);
const hist = { history_size: 100, history_ttl: 60_000 };

describe('history', () => {
  it('paging forward/reverse, cap, 107, 108, 103, 112', async () => {
    tn = await makeNode({
      client: { history_max_publication_limit: 3 },
      namespaces: [namespace('h', { ...hist, allow_history_for_client: true }), namespace('nohist', { allow_history_for_client: true }), namespace('closed', hist)],
    });
    for (let i = 1; i <= 5; i++) await tn.node.publish('h:1', enc.encode(`{"n":${i}}`), {});
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    const top = (await c.call({ history: { channel: 'h:1' } }))['history'] as Json;
    assert.deepEqual(top['publications'], []);
    assert.equal(top['offset'], 5);
    const epoch = top['epoch'] as string;
    const page1 = (await c.call({ history: { channel: 'h:1', limit: 2 } }))['history'] as Json;
    assert.deepEqual((page1['publications'] as Json[]).map((p) => p['offset']), [1, 2]);
    const page2 = (await c.call({ history: { channel: 'h:1', limit: 2, since: { offset: 2, epoch } } }))['history'] as Json;
    assert.deepEqual((page2['publications'] as Json[]).map((p) => p['offset']), [3, 4]);
    const capped = (await c.call({ history: { channel: 'h:1', limit: -1 } }))['history'] as Json;
    assert.equal((capped['publications'] as Json[]).length, 3);
    const rev = (await c.call({ history: { channel: 'h:1', limit: 2, reverse: true } }))['history'] as Json;
    assert.deepEqual((rev['publications'] as Json[]).map((p) => p['offset']), [5, 4]);
    assert.equal(code(await c.call({ history: { channel: 'h:1', limit: 2, reverse: true, since: { offset: 0, epoch } } })), 107);
    assert.equal(code(await c.call({ history: { channel: 'h:1', limit: 2, since: { offset: 1, epoch: 'zzz' } } })), 112);
    assert.equal(code(await c.call({ history: { channel: 'nohist:1' } })), 108);
    assert.equal(code(await c.call({ history: { channel: 'closed:1' } })), 103);
  });
});

describe('refresh', () => {
  it('extends expiration; errors 3501 / 3005 / 3500 / 110 / 3010', async () => {
    tn = await makeNode({ client: { allow_anonymous_connect_without_token: false } });
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u', exp: now() + 10 }) });
    const r = (await c.call({ refresh: { token: tok({ sub: 'u', exp: now() + 100 }) } }))['refresh'] as Json;
    assert.equal(r['expires'], true);
    assert.ok((r['ttl'] as number) > 90);
    assert.equal(code(await c.call({ refresh: { token: tok({ sub: 'u', expire_at: 100 }) } })), 110);
    const cases: Array<[string, number]> = [
      ['', 3501],
      ['expired', 3005],
      ['invalid', 3500],
      [tok({ sub: 'other', exp: now() + 100 }), 3500],
      [tok({ sub: 'u', exp: now() + 100, channels: ['x'] }), 3010],
    ];
    for (const [token, want] of cases) {
      const d: Client = new Client(tn.node);
      await d.connect({ token: tok({ sub: 'u', exp: now() + 10 }) });
      d.cmd({ refresh: { token } });
      assert.equal(await d.waitClosed(), want, `token ${token}`);
    }
  });
});

describe('sub_refresh', () => {
  it('updates subscription expiry; 103 not subscribed, 107 empty token, 3500 mismatch', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    await c.call({ subscribe: { channel: 's', token: tok({ sub: 'u', channel: 's', exp: now() + 10 }) } });
    const r = (await c.call({ sub_refresh: { channel: 's', token: tok({ sub: 'u', channel: 's', exp: now() + 100 }) } }))['sub_refresh'] as Json;
    assert.equal(r['expires'], true);
    assert.ok((r['ttl'] as number) > 90);
    assert.equal(code(await c.call({ sub_refresh: { channel: 'other', token: 'x' } })), 103);
    assert.equal(code(await c.call({ sub_refresh: { channel: 's' } })), 107);
    c.cmd({ sub_refresh: { channel: 's', token: tok({ sub: 'u', channel: 'zz', exp: now() + 100 }) } });
    assert.equal(await c.waitClosed(), 3500);
  });

  it('client-side subscription not refreshed ⇒ unsubscribe push 2501 on the periodic tick', async () => {
    tn = await makeNode({ client: { presence_update_interval: 20, expired_sub_close_delay: 0 } });
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    await c.call({ subscribe: { channel: 's', token: tok({ sub: 'u', channel: 's', expire_at: now() + 1 }) } });
    const [push] = await c.next(1, 4000);
    assert.deepEqual(push, { push: { channel: 's', unsubscribe: { code: 2501, reason: 'subscription expired' } } });
  });
});

describe('server-side subscriptions at connect', () => {
  it('token channels/subs and the personal channel appear in ConnectResult.subs; client cannot unsubscribe', async () => {
    tn = await makeNode({
      client: { subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'personal', single_connection: false } },
      namespaces: [namespace('personal'), namespace('news', { ...hist, force_recovery: true })],
    });
    const c = new Client(tn.node);
    const res = await c.connect({ token: tok({ sub: 'u', subs: { 'news:1': { data: { w: 1 } } } }) });
    const subs = res['subs'] as Record<string, Json>;
    assert.deepEqual(Object.keys(subs).sort(), ['news:1', 'personal:#u']);
    assert.equal(subs['news:1']!['recoverable'], true);
    assert.deepEqual(subs['news:1']!['data'], { w: 1 });
    await tn.node.publish('personal:#u', enc.encode('{"dm":1}'), {});
    const [pub] = await c.next(1);
    assert.deepEqual(pub, { push: { channel: 'personal:#u', pub: { data: { dm: 1 } } } });
    await c.call({ unsubscribe: { channel: 'news:1' } });
    assert.equal(tn.node.stats().subscriptions, 2);
  });

  it('recovers server-side subscriptions from connect.subs', async () => {
    tn = await makeNode({ namespaces: [namespace('news', { ...hist, force_recovery: true })] });
    const c = new Client(tn.node);
    const r1 = await c.connect({ token: tok({ sub: 'u', channels: ['news:1'] }) });
    const epoch = (r1['subs'] as Record<string, Json>)['news:1']!['epoch'];
    c.port.handleTransportClose();
    await tn.node.publish('news:1', enc.encode('{"n":1}'), {});
    const d = new Client(tn.node);
    const r2 = await d.connect({ token: tok({ sub: 'u', channels: ['news:1'] }), subs: { 'news:1': { recover: true, offset: 0, epoch } } });
    const s = (r2['subs'] as Record<string, Json>)['news:1']!;
    assert.equal(s['recovered'], true);
    assert.deepEqual(s['publications'], [{ data: { n: 1 }, offset: 1 }]);
  });

  it('unknown namespace in token ⇒ 102; too many ⇒ 3505', async () => {
    tn = await makeNode({ client: { channel_limit: 2 } });
    const c = new Client(tn.node);
    const r = await c.call({ connect: { token: tok({ sub: 'u', channels: ['nope:1'] }) } });
    assert.equal(code(r), 102);
    const d = new Client(tn.node);
    d.cmd({ connect: { token: tok({ sub: 'u', channels: ['a', 'b', 'c'] }) } });
    assert.equal(await d.waitClosed(), 3505);
    await settle();
    assert.equal(tn.node.stats().subscriptions, 0);
  });
});
