// The in-memory map broker (src/engines/memory/map-broker.ts) with a fake clock: state pages, stream and epoch,
// key TTL expiry by the sweep, stream trimming, conditional writes, idempotency, versions and clear.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MapChannelSettings } from '../../../../src/engines/map-types.js';
import { MemoryMapBroker } from '../../../../src/engines/memory/map-broker.js';
import { UnrecoverablePositionError } from '../../../../src/engines/types.js';
import { mapBrokerMetrics } from '../../../../src/metrics/map-broker.js';
import type { Publication, StreamPosition } from '../../../../src/protocol/types.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const PERSISTENT: MapChannelSettings = { mode: 'persistent', keyTtlMs: 0, streamSize: 3, streamTtlMs: 60_000, metaTtlMs: 0 };
const EPHEMERAL: MapChannelSettings = { mode: 'ephemeral', keyTtlMs: 1000, streamSize: 0, streamTtlMs: 0, metaTtlMs: 0 };

function setup(): { b: MemoryMapBroker; clock: { t: number }; events: Array<{ channel: string; pub: Publication; pos: StreamPosition; prev?: Publication }> } {
  const clock = { t: 1_000_000 };
  const b = new MemoryMapBroker(() => clock.t);
  const events: Array<{ channel: string; pub: Publication; pos: StreamPosition; prev?: Publication }> = [];
  b.start({ onMapPublication: (channel, pub, pos, prev) => events.push({ channel, pub, pos, ...(prev !== undefined ? { prev } : {}) }) });
  return { b, clock, events };
}

describe('MemoryMapBroker', () => {
  it('keeps state by key, pages it in key order with a cursor, and streams changes with offsets', async () => {
    const { b, events } = setup();
    for (const k of ['c', 'a', 'b']) await b.publish('m', k, PERSISTENT, { data: enc(`"${k}"`) });
    const p1 = await b.readState('m', { cursor: '', limit: 2 });
    assert.deepEqual(p1.publications.map((p) => p.key), ['a', 'b']);
    assert.equal(p1.cursor, 'b');
    const p2 = await b.readState('m', { cursor: p1.cursor, limit: 2 });
    assert.deepEqual([p2.publications.map((p) => p.key), p2.cursor], [['c'], '']);
    assert.equal(p1.position.offset, 3);
    assert.deepEqual(events.map((e) => [e.pub.key, e.pos.offset]), [['c', 1], ['a', 2], ['b', 3]]);
    const r = await b.remove('m', 'a', PERSISTENT, {});
    assert.deepEqual([r.suppressed, r.position.offset], [false, 4]);
    const s = await b.readStream('m', { since: { offset: 2, epoch: p1.position.epoch }, limit: -1 });
    assert.deepEqual(s.publications.map((p) => [p.key, p.removed === true]), [['b', false], ['a', true]]);
    assert.equal(s.times.length, 2);
    // The stream keeps 3 changes: offset 1 is gone.
    const all = await b.readStream('m', { limit: -1 });
    assert.deepEqual(all.publications.map((p) => p.offset), [2, 3, 4]);
    assert.deepEqual(await b.stats('m'), { numKeys: 2 });
  });

  it('another epoch is unrecoverable; clear starts a new epoch', async () => {
    const { b } = setup();
    await b.publish('m', 'k', PERSISTENT, { data: enc('1') });
    const before = (await b.readState('m', { cursor: '', limit: 0 })).position.epoch;
    await assert.rejects(b.readState('m', { cursor: '', limit: 10, revision: { offset: 1, epoch: 'other' } }), UnrecoverablePositionError);
    await assert.rejects(b.readStream('m', { since: { offset: 1, epoch: 'other' }, limit: 10 }), UnrecoverablePositionError);
    await b.clear('m');
    const after = await b.readState('m', { cursor: '', limit: -1 });
    assert.notEqual(after.position.epoch, before);
    assert.deepEqual([after.publications.length, after.position.offset], [0, 0]);
  });

  it('ephemeral keys expire after key_ttl: the sweep removes them and delivers the removal; if_new refreshes', async () => {
    const { b, clock, events } = setup();
    await b.publish('e', 'gone', EPHEMERAL, { data: enc('1') });
    await b.publish('e', 'kept', EPHEMERAL, { data: enc('1') });
    clock.t += 800;
    const again = await b.publish('e', 'kept', EPHEMERAL, { data: enc('2'), keyMode: 'if_new', refreshTtlOnSuppress: true });
    assert.deepEqual([again.suppressed, again.suppressReason], [true, 'key_exists']);
    clock.t += 300;
    b.sweep();
    const keys = (await b.readState('e', { cursor: '', limit: -1 })).publications.map((p) => p.key);
    assert.deepEqual(keys, ['kept']);
    assert.deepEqual(events.slice(2).map((e) => [e.pub.key, e.pub.removed === true, e.pos.offset]), [['gone', true, 0]]);
    clock.t += 1000;
    b.sweep();
    assert.deepEqual(await b.stats('e'), { numKeys: 0 });
  });

  it('the cleanup lag gauge is set by a sweep with a key expiry due only, as in Centrifugo: none before, then it stays', async () => {
    mapBrokerMetrics.cleanupLag.reset();
    const lag = async (): Promise<number[]> => (await mapBrokerMetrics.cleanupLag.get()).values.map((v) => v.value);
    const { b, clock } = setup();
    await b.publish('p', 'k', PERSISTENT, { data: enc('1') });
    clock.t += 5000;
    b.sweep();
    assert.deepEqual(await lag(), [], 'no key expiry due: no series');
    await b.publish('e', 'k', EPHEMERAL, { data: enc('1') });
    clock.t += 1500;
    b.sweep();
    assert.deepEqual(await lag(), [0.5], 'the expiry was due 500 ms before the sweep');
    clock.t += 1000;
    b.sweep();
    assert.deepEqual(await lag(), [0.5], 'nothing due: the last value stays');
  });

  it('if_exists, remove of a missing key, idempotency keys and versions are suppressed with their reason', async () => {
    const { b, events } = setup();
    assert.equal((await b.publish('m', 'k', PERSISTENT, { data: enc('1'), keyMode: 'if_exists' })).suppressReason, 'key_not_found');
    assert.equal((await b.remove('m', 'nope', PERSISTENT, {})).suppressReason, 'key_not_found');
    await b.publish('m', 'k', PERSISTENT, { data: enc('1'), idempotencyKey: 'i1', version: 5 });
    assert.equal((await b.publish('m', 'k', PERSISTENT, { data: enc('2'), idempotencyKey: 'i1' })).suppressReason, 'idempotency');
    assert.equal((await b.publish('m', 'k', PERSISTENT, { data: enc('3'), version: 5 })).suppressReason, 'version');
    const ok = await b.publish('m', 'k', PERSISTENT, { data: enc('4'), version: 6, useDelta: true });
    assert.equal(ok.suppressed, false);
    assert.equal(events.length, 2);
    assert.equal(new TextDecoder().decode(events[1]?.prev?.data), '1');
  });
});
