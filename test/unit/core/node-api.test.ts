// NodeApi semantics (docs/protocol.md §6.3): ApiError codes, pushes to targeted sessions, info/channels.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiError } from '../../../src/protocol/errors.js';
import { namespace } from './config-fixture.js';
import { Client, makeNode, settle, tok, type Json, type TestNode } from './core-harness.js';

let tn: TestNode | undefined;
afterEach(async () => {
  await tn?.close();
  tn = undefined;
});

const enc = new TextEncoder();
const hist = { history_size: 100, history_ttl: 60_000 };

async function apiCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    return err.code;
  }
  return 0;
}

describe('NodeApi', () => {
  it('publish: 107 empty channel/data, 102 unknown namespace, offset/epoch with history', async () => {
    tn = await makeNode({ namespaces: [namespace('h', hist)] });
    const n = tn.node;
    assert.equal(await apiCode(n.publish('', enc.encode('{}'), {})), 107);
    assert.equal(await apiCode(n.publish('x', new Uint8Array(0), {})), 107);
    assert.equal(await apiCode(n.publish('zz:1', enc.encode('{}'), {})), 102);
    assert.deepEqual(await n.publish('plain', enc.encode('{}'), {}), {});
    const r = await n.publish('h:1', enc.encode('{}'), {});
    assert.equal(r.offset, 1);
    assert.equal(typeof r.epoch, 'string');
    const skip = await n.publish('h:1', enc.encode('{}'), { skipHistory: true });
    assert.deepEqual(skip, {});
  });

  it('subscribe pushes `subscribe` then recovered publications; unsubscribe pushes 2000', async () => {
    tn = await makeNode({ namespaces: [namespace('h', { ...hist, force_recovery: true })] });
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    await tn.node.publish('h:1', enc.encode('{"n":1}'), {});
    const pos = await tn.node.history('h:1', { limit: 0 });
    await tn.node.publish('h:1', enc.encode('{"n":2}'), {});
    await tn.node.subscribe({ user: 'u', channel: 'h:1', data: enc.encode('{"d":1}'), recoverSince: { offset: 1, epoch: pos.epoch } });
    const [sp, rp] = await c.next(2);
    assert.deepEqual(sp, {
      push: { channel: 'h:1', subscribe: { recoverable: true, epoch: pos.epoch, offset: 1, positioned: true, data: { d: 1 } } },
    });
    assert.deepEqual(rp, { push: { channel: 'h:1', pub: { data: { n: 2 }, offset: 2 } } });
    await tn.node.publish('h:1', enc.encode('{"n":3}'), {});
    const [p3] = await c.next(1);
    assert.deepEqual(p3, { push: { channel: 'h:1', pub: { data: { n: 3 }, offset: 3 } } });
    assert.equal(await apiCode(tn.node.subscribe({ user: 'u', channel: 'zz:1' })), 102);
    await tn.node.unsubscribe({ user: 'u', channel: 'h:1' });
    const [up] = await c.next(1);
    assert.deepEqual(up, { push: { channel: 'h:1', unsubscribe: { code: 2000, reason: 'server unsubscribe' } } });
    assert.equal(tn.node.stats().subscriptions, 0);
  });

  it('disconnect: default 3503, whitelist, custom code', async () => {
    tn = await makeNode();
    const a = new Client(tn.node);
    const aRes = await a.connect({ token: tok({ sub: 'u' }) });
    const b = new Client(tn.node);
    await b.connect({ token: tok({ sub: 'u' }) });
    await tn.node.disconnect({ user: 'u', whitelist: [aRes['client'] as string] });
    assert.equal(await b.waitClosed(), 3503);
    assert.equal(b.t.closeReason, 'force disconnect');
    assert.equal(a.t.closed, false);
    await tn.node.disconnect({ user: 'u', code: 4000, reason: 'custom' });
    assert.equal(await a.waitClosed(), 4000);
    assert.equal(a.t.closeReason, 'custom');
  });

  it('refresh: push with new expiry; expired ⇒ 3005', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: 'u' }) });
    await tn.node.refresh({ user: 'u', expireAt: Math.floor(Date.now() / 1000) + 100 });
    const [push] = await c.next(1);
    const rp = (push!['push'] as Json)['refresh'] as Json;
    assert.equal(rp['expires'], true);
    assert.ok((rp['ttl'] as number) > 90);
    await tn.node.refresh({ user: 'u', expired: true });
    assert.equal(await c.waitClosed(), 3005);
  });

  it('presence 108, history 108/112, history_remove keeps position, channels glob, info', async () => {
    tn = await makeNode({ client: { insecure: true }, namespaces: [namespace('h', hist), namespace('p', { presence: true })] });
    const n = tn.node;
    assert.equal(await apiCode(n.presence('h:1')), 108);
    assert.equal(await apiCode(n.presenceStats('h:1')), 108);
    assert.equal(await apiCode(n.history('p:1', { limit: 1 })), 108);
    assert.equal(await apiCode(n.historyRemove('p:1')), 108);
    for (let i = 0; i < 400; i++) await n.publish('h:1', enc.encode('{}'), {});
    const all = await n.history('h:1', { limit: -1 });
    assert.equal(all.publications.length, 100); // no client cap
    assert.equal(all.offset, 400);
    assert.equal(await apiCode(n.history('h:1', { limit: 1, since: { offset: 1, epoch: 'bad' } })), 112);
    await n.historyRemove('h:1');
    const after = await n.history('h:1', { limit: -1 });
    assert.deepEqual([after.publications.length, after.offset, after.epoch], [0, 400, all.epoch]);

    const c = new Client(n);
    await c.connect();
    await c.call({ subscribe: { channel: 'p:room1' } });
    await c.call({ subscribe: { channel: 'p:room2' } });
    await c.call({ subscribe: { channel: 'other' } });
    assert.deepEqual(await n.presenceStats('p:room1'), { num_clients: 1, num_users: 1 });
    assert.equal(Object.keys(await n.presence('p:room1')).length, 1);
    assert.deepEqual(Object.keys(await n.channels('p:room?')).sort(), ['p:room1', 'p:room2']);
    assert.deepEqual(Object.keys(await n.channels('*')).length, 3);
    assert.deepEqual(await n.channels('p:*1'), { 'p:room1': { num_clients: 1 } });
    const [info] = await n.info();
    assert.equal(info!.uid, n.uid);
    assert.equal(info!.name, 'test-node');
    assert.deepEqual([info!.num_clients, info!.num_users, info!.num_subs, info!.num_channels], [1, 1, 3, 3]);
    await settle();
  });
});
