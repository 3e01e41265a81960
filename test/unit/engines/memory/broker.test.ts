// Memory-specific broker behaviour (the shared behaviour is in test/contract): synchronous delivery,
// idempotency window with a fake clock, close, and the engine factory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryEngine, MemoryBroker } from '../../../../src/engines/memory/index.js';
import type { BrokerEventHandler, PublishOptions } from '../../../../src/engines/types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../../../src/protocol/types.js';

const H: PublishOptions = { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 600_000 };
const data = new Uint8Array([123, 125]);

class Rec implements BrokerEventHandler {
  pubs: { channel: string; pub: Publication; position: StreamPosition | undefined }[] = [];
  joins: string[] = [];
  leaves: string[] = [];
  onPublication(channel: string, pub: Publication, position: StreamPosition | undefined): void {
    this.pubs.push({ channel, pub, position });
  }
  onJoin(channel: string, info: ClientInfo): void {
    this.joins.push(`${channel}/${info.client}`);
  }
  onLeave(channel: string, info: ClientInfo): void {
    this.leaves.push(`${channel}/${info.client}`);
  }
  onUnsubscribed?: (type: string, channel: string) => void;
}

async function started(now?: () => number): Promise<{ b: MemoryBroker; rec: Rec }> {
  const b = new MemoryBroker(now === undefined ? {} : { now });
  const rec = new Rec();
  await b.start(rec);
  await b.subscribe(['ch']);
  return { b, rec };
}

describe('MemoryBroker', () => {
  it('delivers synchronously inside publish()', async () => {
    const { b, rec } = await started();
    const p = b.publish('ch', data, H);
    assert.equal(rec.pubs.length, 1, 'delivered before the promise settles');
    assert.equal(rec.pubs[0]?.pub.offset, 1);
    await p;
    void b.publishJoin('ch', { user: 'u', client: 'c1' });
    void b.publishLeave('ch', { user: 'u', client: 'c1' });
    assert.deepEqual(rec.joins, ['ch/c1']);
    assert.deepEqual(rec.leaves, ['ch/c1']);
    await b.close();
  });

  it('an event for a channel this node did not subscribe to is not delivered but reported (a received message)', async () => {
    const { b, rec } = await started();
    const unsubscribed: string[] = [];
    rec.onUnsubscribed = (type: string, channel: string): void => void unsubscribed.push(`${type} ${channel}`);
    await b.publish('other', data, H);
    await b.publishJoin('other', { user: 'u', client: 'c1' });
    await b.publishLeave('other', { user: 'u', client: 'c1' });
    await b.publish('ch', data, H);
    assert.deepEqual(rec.pubs.map((p) => p.channel), ['ch']);
    assert.deepEqual(unsubscribed, ['publication other', 'join other', 'leave other']);
    // A publish suppressed by its idempotency key is neither.
    await b.publish('other', data, { ...H, idempotencyKey: 'k' });
    await b.publish('other', data, { ...H, idempotencyKey: 'k' });
    assert.equal(unsubscribed.length, 4);
    await b.close();
  });

  it('the delivered position is a copy of the result', async () => {
    const { b, rec } = await started();
    const r = await b.publish('ch', data, H);
    assert.deepEqual(rec.pubs[0]?.position, r.position);
    assert.notEqual(rec.pubs[0]?.position, r.position);
    await b.close();
  });

  it('needs both historySize and historyTtlMs to store', async () => {
    const { b, rec } = await started();
    assert.equal((await b.publish('ch', data, { ...H, historySize: 0 })).position, undefined);
    assert.equal((await b.publish('ch', data, { ...H, historyTtlMs: 0 })).position, undefined);
    assert.equal(rec.pubs.length, 2);
    assert.equal(b.streamCount, 0, 'no stream created');
    await b.close();
  });

  it('idempotency window is 5 minutes', async () => {
    const clock = { t: 0 };
    const { b, rec } = await started(() => clock.t);
    const first = await b.publish('ch', data, { ...H, idempotencyKey: 'k' });
    clock.t += 5 * 60_000 - 1;
    assert.equal((await b.publish('ch', data, { ...H, idempotencyKey: 'k' })).suppressed, true);
    clock.t += 1;
    const again = await b.publish('ch', data, { ...H, idempotencyKey: 'k' });
    assert.equal(again.suppressed, false);
    assert.equal(again.position?.offset, (first.position?.offset ?? 0) + 1);
    assert.equal(rec.pubs.length, 2);
    await b.close();
  });

  it('an empty idempotency key is ignored', async () => {
    const { b, rec } = await started();
    await b.publish('ch', data, { ...H, idempotencyKey: '' });
    await b.publish('ch', data, { ...H, idempotencyKey: '' });
    assert.equal(rec.pubs.length, 2);
    await b.close();
  });

  it('append() stores without delivering; idempotent append', async () => {
    const { b, rec } = await started();
    const pub: Publication = { data };
    const r = await b.append('ch', pub, { size: 5, ttlMs: 1000, metaTtlMs: 10_000, idempotencyKey: 'x' });
    assert.deepEqual(r.position.offset, 1);
    assert.equal(pub.offset, undefined, "the caller's object is not modified");
    assert.equal(rec.pubs.length, 0);
    const dup = await b.append('ch', pub, { size: 5, ttlMs: 1000, metaTtlMs: 10_000, idempotencyKey: 'x' });
    assert.deepEqual(dup, { position: r.position, suppressed: true });
    await b.close();
  });

  it('a throwing handler rejects publish but the publication is stored', async () => {
    const b = new MemoryBroker();
    await b.start({
      onPublication: () => {
        throw new Error('boom');
      },
      onJoin: () => undefined,
      onLeave: () => undefined,
    });
    await b.subscribe(['ch']);
    await assert.rejects(b.publish('ch', data, H), /boom/);
    assert.equal((await b.read('ch', { limit: 0, metaTtlMs: 1000 })).position.offset, 1);
    await b.close();
  });

  it('close stops delivery and is idempotent', async () => {
    const { b, rec } = await started();
    await b.close();
    await b.close();
    await b.publish('ch', data, H);
    assert.equal(rec.pubs.length, 0);
  });

  it('sweep drops expired idempotency entries and streams', async () => {
    const clock = { t: 0 };
    const { b } = await started(() => clock.t);
    await b.publish('ch', data, { ...H, historyMetaTtlMs: 1000, idempotencyKey: 'k' });
    clock.t += 10 * 60_000;
    b.sweep();
    assert.equal(b.streamCount, 0);
    await b.close();
  });
});

describe('createMemoryEngine', () => {
  it('bundles one broker/history object and presence', async () => {
    const e = createMemoryEngine();
    assert.equal(e.name, 'memory');
    assert.equal(e.history, e.broker);
    assert.deepEqual({ ...e.broker.capabilities }, { history: true, atomicHistory: true, presence: true });
    assert.ok(e.controller !== undefined, 'a loopback controller');
    await e.presence.add('ch', 'c1', { user: 'u', client: 'c1' });
    assert.equal((await e.presence.get('ch')).size, 1);
    await Promise.all([e.close(), e.close()]);
    assert.equal((await e.presence.get('ch')).size, 0, 'close clears state');
  });

  it('passes presence options', async () => {
    const clock = { t: 0 };
    const e = createMemoryEngine({ now: () => clock.t, presenceTtlMs: 10 });
    await e.presence.add('ch', 'c1', { user: 'u', client: 'c1' });
    clock.t = 10;
    assert.equal((await e.presence.get('ch')).size, 0);
    await e.close();
  });
});
