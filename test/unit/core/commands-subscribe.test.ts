// subscribe / unsubscribe / publish: permissions (docs/protocol.md §4.6), tokens (§3.3), positioning and recovery (§5), join/leave.
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

describe('subscribe permissions', () => {
  it('matrix: deny by default, allow_subscribe_for_client, anonymous rule, insecure, $ needs token', async () => {
    tn = await makeNode({
      client: { allow_anonymous_connect_without_token: true },
      namespaces: [
        namespace('open', { allow_subscribe_for_client: true }),
        namespace('anon', { allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true }),
        namespace('ul', { allow_user_limited_channels: true }),
      ],
    });
    const user = new Client(tn.node);
    await user.connect({ token: tok({ sub: 'u1' }) });
    assert.equal(code(await user.call({ subscribe: { channel: 'closed' } })), 103);
    assert.ok((await user.call({ subscribe: { channel: 'open:x' } }))['subscribe']);
    assert.equal(code(await user.call({ subscribe: { channel: 'nope:x' } })), 102);
    assert.equal(code(await user.call({ subscribe: { channel: '$open:x' } })), 103);
    assert.ok((await user.call({ subscribe: { channel: 'ul:#u1,u2' } }))['subscribe']);
    assert.equal(code(await user.call({ subscribe: { channel: 'ul:#u2' } })), 103);
    assert.equal(code(await user.call({ subscribe: { channel: 'open:x' } })), 105);
    assert.equal(code(await user.call({ subscribe: { channel: 'open:' + 'x'.repeat(300) } })), 107);
    assert.equal(code(await user.call({ subscribe: { channel: 'open:y', tf: { op: 'eq' } } })), 107);
    assert.equal(code(await user.call({ subscribe: { channel: 'open:y', type: 1 } })), 103);

    const anon = new Client(tn.node);
    await anon.connect({});
    assert.equal(code(await anon.call({ subscribe: { channel: 'open:x' } })), 103);
    assert.ok((await anon.call({ subscribe: { channel: 'anon:x' } }))['subscribe']);
  });

  it('empty channel or unknown delta ⇒ 3501; channel_limit ⇒ 106', async () => {
    tn = await makeNode({ client: { insecure: true, channel_limit: 1 } });
    const c = new Client(tn.node);
    await c.connect();
    assert.ok((await c.call({ subscribe: { channel: 'a', delta: 'fossil' } }))['subscribe']);
    assert.equal(code(await c.call({ subscribe: { channel: 'b' } })), 106);
    c.cmd({ subscribe: { channel: 'c', delta: 'bogus' } });
    assert.equal(await c.waitClosed(), 3501);
    const d = new Client(tn.node);
    await d.connect();
    d.cmd({ subscribe: { channel: '' } });
    assert.equal(await d.waitClosed(), 3501);
  });

  it('subscription token: allows $ channels, carries data/info, expiry; errors 109 / 103 / 3500', async () => {
    tn = await makeNode({ client: {}, namespaces: [namespace('p', { presence: true })] });
    const c = new Client(tn.node);
    const connRes = await c.connect({ token: tok({ sub: 'u1' }) });
    const exp = Math.floor(Date.now() / 1000) + 60;
    const ok = await c.call({
      subscribe: { channel: '$p:secret', token: tok({ sub: 'u1', channel: '$p:secret', exp, data: { hi: 1 }, info: { role: 'x' } }) },
    });
    const res = ok['subscribe'] as Json;
    assert.deepEqual(res['data'], { hi: 1 });
    assert.equal(res['expires'], true);
    assert.ok((res['ttl'] as number) > 0);
    const pres = await c.call({ presence: { channel: '$p:secret' } });
    assert.equal(code(pres), 103); // presence permission not granted by the namespace
    const stored = await tn.engine.presence.get('$p:secret');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stored.get(connRes['client'] as string)?.chan_info)), { role: 'x' });
    assert.equal(code(await c.call({ subscribe: { channel: 'p:a', token: 'expired' } })), 109);
    assert.equal(code(await c.call({ subscribe: { channel: 'p:a', token: 'invalid' } })), 103);
    assert.equal(code(await c.call({ subscribe: { channel: 'p:a', token: tok({ sub: 'u1' }) } })), 103);
    c.cmd({ subscribe: { channel: 'p:a', token: tok({ sub: 'other', channel: 'p:a' }) } });
    assert.equal(await c.waitClosed(), 3500);
  });
});

describe('publish / unsubscribe', () => {
  it('publish permission, empty data 107, delivery with ClientInfo; unsubscribe stops delivery', async () => {
    tn = await makeNode({
      namespaces: [namespace('chat', { allow_subscribe_for_client: true, allow_publish_for_subscriber: true })],
    });
    const a = new Client(tn.node);
    const aRes = await a.connect({ token: tok({ sub: 'a', info: { name: 'A' } }) });
    assert.equal(code(await a.call({ publish: { channel: 'chat:1', data: { x: 1 } } })), 103);
    await a.call({ subscribe: { channel: 'chat:1' } });
    assert.equal(code(await a.call({ publish: { channel: 'chat:1' } })), 107);
    assert.equal(code(await a.call({ publish: { channel: 'zzz:1', data: {} } })), 102);
    const before = a.t.messages().length;
    const r = await a.call({ publish: { channel: 'chat:1', data: { x: 1 } } });
    assert.deepEqual(r['publish'], {});
    // The publisher's own publication and the reply leave in one frame (order between them is free).
    const push = a.t.messages().slice(before).find((m) => m['push'] !== undefined);
    assert.deepEqual(push, {
      push: { channel: 'chat:1', pub: { data: { x: 1 }, info: { user: 'a', client: aRes['client'], conn_info: { name: 'A' } } } },
    });
    assert.deepEqual((await a.call({ unsubscribe: { channel: 'chat:1' } }))['unsubscribe'], {});
    assert.deepEqual((await a.call({ unsubscribe: { channel: 'never' } }))['unsubscribe'], {});
    await tn.node.publish('chat:1', enc.encode('{"y":2}'), {});
    await settle();
    assert.equal(a.unread().length, 0);
    assert.equal(tn.node.stats().channels, 0);
  });

  it('binary data to a JSON subscriber ⇒ 3506', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    await c.connect();
    await c.call({ subscribe: { channel: 'bin' } });
    await tn.node.publish('bin', new Uint8Array([0xff, 0x00, 0x01]), {});
    assert.equal(await c.waitClosed(), 3506);
  });

  it('slow client: queue over client.queue_max_size ⇒ 3008', async () => {
    tn = await makeNode({ client: { insecure: true, queue_max_size: 1000 } });
    const c = new Client(tn.node);
    await c.connect();
    await c.call({ subscribe: { channel: 'flood' } });
    c.t.bufferedBytes = 10_000; // the socket is not draining
    await tn.node.publish('flood', enc.encode('{"a":1}'), {});
    assert.equal(await c.waitClosed(), 3008);
    assert.equal(tn.node.stats().clients, 0);
  });
});

describe('positioning and recovery', () => {
  const hist = { history_size: 10, history_ttl: 60_000, allow_subscribe_for_client: true };

  it('positioned subscribe returns epoch/offset; recovery succeeds with publications in the reply', async () => {
    tn = await makeNode({ namespaces: [namespace('h', { ...hist, force_recovery: true })] });
    for (let i = 1; i <= 3; i++) await tn.node.publish('h:1', enc.encode(`{"n":${i}}`), {});
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    const first = (await c.call({ subscribe: { channel: 'h:1' } }))['subscribe'] as Json;
    assert.equal(first['recoverable'], true);
    assert.equal(first['positioned'], true);
    assert.equal(first['offset'], 3);
    const epoch = first['epoch'] as string;
    assert.equal(typeof epoch, 'string');
    await c.call({ unsubscribe: { channel: 'h:1' } });
    for (let i = 4; i <= 5; i++) await tn.node.publish('h:1', enc.encode(`{"n":${i}}`), {});
    const rec = (await c.call({ subscribe: { channel: 'h:1', recover: true, offset: 3, epoch } }))['subscribe'] as Json;
    assert.equal(rec['recovered'], true);
    assert.equal(rec['was_recovering'], true);
    assert.equal(rec['offset'], 3);
    assert.deepEqual(rec['publications'], [
      { data: { n: 4 }, offset: 4 },
      { data: { n: 5 }, offset: 5 },
    ]);
    // Live delivery continues from the recovered position.
    await tn.node.publish('h:1', enc.encode('{"n":6}'), {});
    const [p6] = await c.next(1);
    assert.deepEqual(p6, { push: { channel: 'h:1', pub: { data: { n: 6 }, offset: 6 } } });
  });

  it('recovery failure: recovered false with top offset; flag 2 ⇒ 112', async () => {
    tn = await makeNode({ namespaces: [namespace('h', { ...hist, force_recovery: true })] });
    await tn.node.publish('h:1', enc.encode('{"n":1}'), {});
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    const r = (await c.call({ subscribe: { channel: 'h:1', recover: true, offset: 1, epoch: 'other' } }))['subscribe'] as Json;
    assert.equal(r['recovered'], undefined); // false is omitted on the wire
    assert.equal(r['was_recovering'], true);
    assert.equal(r['offset'], 1);
    assert.equal(r['publications'], undefined);
    await c.call({ unsubscribe: { channel: 'h:1' } });
    const e = await c.call({ subscribe: { channel: 'h:1', recover: true, offset: 0, epoch: 'other', flag: 3 } });
    assert.equal(code(e), 112);
  });

  it('publications during subscribe come after the reply (no duplicates)', async () => {
    tn = await makeNode({ namespaces: [namespace('h', { ...hist, force_recovery: true })] });
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    const id = c.cmd({ subscribe: { channel: 'h:1' } });
    // Publish while the subscribe is in flight.
    const pubs = [1, 2, 3].map((n) => tn!.node.publish('h:1', enc.encode(`{"n":${n}}`), {}));
    await Promise.all(pubs);
    const reply = await c.reply(id);
    const top = (reply['subscribe'] as Json)['offset'] as number;
    await settle();
    const after = c.unread().map((m) => ((m['push'] as Json)['pub'] as Json)['offset']);
    // Everything after the reply's offset, exactly once, in order.
    assert.deepEqual(after, [1, 2, 3].filter((o) => o > top));
    const all = c.t.messages();
    assert.ok(all.findIndex((m) => m['id'] === id) < all.findIndex((m) => m['push'] !== undefined) || after.length === 0);
  });

  it('gap on a positioned client-side subscription ⇒ unsubscribe push 2500', async () => {
    tn = await makeNode({ namespaces: [namespace('h', { ...hist, force_positioning: true })] });
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    await tn.node.publish('h:1', enc.encode('{"n":1}'), {});
    await tn.node.publish('h:1', enc.encode('{"n":2}'), {});
    await c.call({ subscribe: { channel: 'h:1' } });
    const sub = [...tn.node.hub.sessions.values()][0]!.subs.get('h:1')!;
    assert.equal(sub.offset, 2);
    sub.offset = 1; // pretend offset 2 was never delivered: the next publication (3) is a gap
    await tn.node.publish('h:1', enc.encode('{"n":3}'), {});
    const [push] = await c.next(1);
    assert.deepEqual(push, { push: { channel: 'h:1', unsubscribe: { code: 2500, reason: 'insufficient state' } } });
    assert.equal(tn.node.stats().subscriptions, 0);
  });
});

describe('join / leave / presence', () => {
  it('join_leave pushes to subscribers that asked, presence and presence_stats', async () => {
    tn = await makeNode({
      namespaces: [
        namespace('room', {
          presence: true,
          join_leave: true,
          allow_subscribe_for_client: true,
          allow_presence_for_subscriber: true,
        }),
      ],
    });
    const a = new Client(tn.node);
    const aRes = await a.connect({ token: tok({ sub: 'a' }) });
    await a.call({ subscribe: { channel: 'room:1', join_leave: true } });
    const [ownJoin] = await a.next(1);
    assert.deepEqual(ownJoin, { push: { channel: 'room:1', join: { info: { user: 'a', client: aRes['client'] } } } });
    const b = new Client(tn.node);
    const bRes = await b.connect({ token: tok({ sub: 'b' }) });
    await b.call({ subscribe: { channel: 'room:1' } });
    const [join] = await a.next(1);
    assert.deepEqual(join, { push: { channel: 'room:1', join: { info: { user: 'b', client: bRes['client'] } } } });
    const pres = (await a.call({ presence: { channel: 'room:1' } }))['presence'] as Json;
    assert.deepEqual(Object.keys(pres['presence'] as Json).sort(), [aRes['client'], bRes['client']].sort());
    assert.deepEqual((await a.call({ presence_stats: { channel: 'room:1' } }))['presence_stats'], { num_clients: 2, num_users: 2 });
    assert.equal(code(await a.call({ presence: { channel: 'other' } })), 108);
    b.port.handleTransportClose();
    const [leave] = await a.next(1);
    assert.deepEqual(leave, { push: { channel: 'room:1', leave: { info: { user: 'b', client: bRes['client'] } } } });
    await settle();
    assert.equal(b.unread().length, 0);
  });
});
