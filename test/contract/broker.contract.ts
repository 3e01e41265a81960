// Broker contract (docs/style.md §4.9): every engine's Broker passes these cases; an engine may skip a case by
// name with a reason. Delivery may be asynchronous (Redis, NATS), so cases wait for events with a bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Broker, HistoryStore, PublishOptions } from '../../src/engines/types.js';
import type { ClientInfo } from '../../src/protocol/types.js';
import { RecordingHandler, sameBytes, sleep, str, text, uniqueChannel, waitFor } from './contract-util.js';
import type { SkipMap } from './contract-util.js';

export interface BrokerSubject {
  broker: Broker;
  /** Absent for brokers without history (NATS); their history cases are skipped. */
  history?: HistoryStore;
  close(): Promise<void>;
}
export type BrokerFactory = () => Promise<BrokerSubject>;

const NO_HISTORY: PublishOptions = { historySize: 0, historyTtlMs: 0, historyMetaTtlMs: 0 };
const WITH_HISTORY: PublishOptions = { historySize: 100, historyTtlMs: 60_000, historyMetaTtlMs: 3_600_000 };
const ALICE: ClientInfo = { user: 'alice', client: 'c-1', conn_info: text('{"a":1}'), chan_info: text('{"b":2}') };

type Case = (s: BrokerSubject, h: RecordingHandler) => Promise<void>;

const cases: Record<string, Case> = {
  'publish without history is delivered without position and carries info and tags': async (s, h) => {
    const ch = uniqueChannel();
    await s.broker.subscribe([ch]);
    const res = await s.broker.publish(ch, text('{"x":1}'), { ...NO_HISTORY, clientInfo: ALICE, tags: { k: 'v' } });
    assert.equal(res.suppressed, false);
    assert.equal(res.position, undefined);
    await waitFor(() => h.pubs(ch).length === 1, 2000, 'publication');
    const ev = h.pubs(ch)[0];
    assert.ok(ev !== undefined);
    assert.equal(str(ev.pub.data), '{"x":1}');
    assert.equal(ev.position, undefined);
    assert.ok(ev.pub.offset === undefined || ev.pub.offset === 0);
    assert.deepEqual(ev.pub.tags, { k: 'v' });
    assert.equal(ev.pub.info?.user, 'alice');
    assert.equal(ev.pub.info?.client, 'c-1');
    assert.ok(sameBytes(ev.pub.info?.conn_info, ALICE.conn_info));
    assert.ok(sameBytes(ev.pub.info?.chan_info, ALICE.chan_info));
  },

  'publish with history assigns sequential offsets in one epoch': async (s, h) => {
    const ch = uniqueChannel();
    await s.broker.subscribe([ch]);
    const r1 = await s.broker.publish(ch, text('1'), WITH_HISTORY);
    const r2 = await s.broker.publish(ch, text('2'), WITH_HISTORY);
    assert.equal(r1.suppressed, false);
    assert.equal(r1.position?.offset, 1);
    assert.equal(r2.position?.offset, 2);
    assert.match(r1.position?.epoch ?? '', /.+/);
    assert.equal(r2.position?.epoch, r1.position?.epoch);
    await waitFor(() => h.pubs(ch).length === 2, 2000, 'publications');
    const evs = h.pubs(ch);
    assert.deepEqual(
      evs.map((e) => [e.pub.offset, e.position?.offset, e.position?.epoch, str(e.pub.data)]),
      [
        [1, 1, r1.position?.epoch, '1'],
        [2, 2, r1.position?.epoch, '2'],
      ],
    );
    const read = await s.history!.read(ch, { limit: -1, metaTtlMs: WITH_HISTORY.historyMetaTtlMs });
    assert.deepEqual(read.position, { offset: 2, epoch: r1.position?.epoch });
    assert.deepEqual(read.publications.map((p) => str(p.data)), ['1', '2']);
  },

  'concurrent publishes are delivered in offset order': async (s, h) => {
    const ch = uniqueChannel();
    await s.broker.subscribe([ch]);
    const n = 50;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => s.broker.publish(ch, text(String(i)), WITH_HISTORY)),
    );
    const offsets = results.map((r) => r.position?.offset ?? -1).sort((a, b) => a - b);
    assert.deepEqual(offsets, Array.from({ length: n }, (_, i) => i + 1));
    await waitFor(() => h.pubs(ch).length === n, 3000, 'all publications');
    const delivered = h.pubs(ch).map((e) => e.pub.offset);
    assert.deepEqual(delivered, Array.from({ length: n }, (_, i) => i + 1));
    // Each delivered payload matches the publish that got that offset.
    for (let i = 0; i < n; i++) {
      const off = results[i]?.position?.offset ?? -1;
      assert.equal(str(h.pubs(ch)[off - 1]?.pub.data), String(i));
    }
  },

  'skipHistory publishes without offset and stores nothing': async (s, h) => {
    const ch = uniqueChannel();
    await s.broker.subscribe([ch]);
    await s.broker.publish(ch, text('a'), WITH_HISTORY);
    const res = await s.broker.publish(ch, text('b'), { ...WITH_HISTORY, skipHistory: true });
    assert.equal(res.position, undefined);
    await waitFor(() => h.pubs(ch).length === 2, 2000, 'publications');
    assert.equal(h.pubs(ch)[1]?.position, undefined);
    const read = await s.history!.read(ch, { limit: -1, metaTtlMs: WITH_HISTORY.historyMetaTtlMs });
    assert.equal(read.position.offset, 1);
    assert.deepEqual(read.publications.map((p) => str(p.data)), ['a']);
  },

  'only subscribed channels are delivered; unsubscribe stops delivery': async (s, h) => {
    const ch = uniqueChannel();
    const other = uniqueChannel();
    const marker = uniqueChannel();
    await s.broker.subscribe([ch, marker]);
    await s.broker.publish(other, text('nope'), NO_HISTORY);
    await s.broker.publish(ch, text('yes'), NO_HISTORY);
    await s.broker.unsubscribe([ch]);
    await s.broker.publish(ch, text('after'), NO_HISTORY);
    await s.broker.publish(marker, text('m'), NO_HISTORY);
    await waitFor(() => h.pubs(marker).length === 1, 2000, 'marker');
    await sleep(30);
    assert.deepEqual(h.pubs(ch).map((e) => str(e.pub.data)), ['yes']);
    assert.equal(h.pubs(other).length, 0);
  },

  'unsubscribed channel still gets history appended': async (s) => {
    const ch = uniqueChannel();
    const res = await s.broker.publish(ch, text('x'), WITH_HISTORY);
    assert.equal(res.position?.offset, 1);
    const read = await s.history!.read(ch, { limit: -1, metaTtlMs: WITH_HISTORY.historyMetaTtlMs });
    assert.deepEqual(read.publications.map((p) => p.offset), [1]);
  },

  'join and leave are delivered to subscribed channels only': async (s, h) => {
    const ch = uniqueChannel();
    const other = uniqueChannel();
    await s.broker.subscribe([ch]);
    await s.broker.publishJoin(other, ALICE);
    await s.broker.publishJoin(ch, ALICE);
    await s.broker.publishLeave(ch, { user: 'bob', client: 'c-2' });
    await waitFor(() => h.presence(ch).length === 2, 2000, 'join/leave');
    const evs = h.presence(ch);
    assert.equal(evs[0]?.kind, 'join');
    assert.equal(evs[0]?.info.user, 'alice');
    assert.equal(evs[0]?.info.client, 'c-1');
    assert.ok(sameBytes(evs[0]?.info.conn_info, ALICE.conn_info));
    assert.equal(evs[1]?.kind, 'leave');
    assert.equal(evs[1]?.info.user, 'bob');
    assert.equal(h.presence(other).length, 0);
  },

  'one channel keeps the order sent across publications without history, joins and leaves': async (s, h) => {
    const ch = uniqueChannel();
    await s.broker.subscribe([ch]);
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) await s.broker.publish(ch, text(`p${i}`), NO_HISTORY);
      else if (i % 3 === 1) await s.broker.publishJoin(ch, { user: `u${i}`, client: `c${i}` });
      else await s.broker.publishLeave(ch, { user: `u${i}`, client: `c${i}` });
      sent.push(i % 3 === 0 ? `p${i}` : `u${i}`);
    }
    const got = (): string[] =>
      h.events.filter((e) => e.channel === ch).map((e) => (e.kind === 'pub' ? str(e.pub.data) : e.info.user));
    await waitFor(() => got().length === sent.length, 3000, 'every event');
    assert.deepEqual(got(), sent);
  },

  'idempotency key suppresses a duplicate and returns the first result': async (s, h) => {
    const ch = uniqueChannel();
    await s.broker.subscribe([ch]);
    const first = await s.broker.publish(ch, text('1'), { ...WITH_HISTORY, idempotencyKey: 'k1' });
    const dup = await s.broker.publish(ch, text('1-again'), { ...WITH_HISTORY, idempotencyKey: 'k1' });
    const other = await s.broker.publish(ch, text('2'), { ...WITH_HISTORY, idempotencyKey: 'k2' });
    assert.equal(first.suppressed, false);
    assert.equal(dup.suppressed, true);
    assert.deepEqual(dup.position, first.position);
    assert.equal(other.suppressed, false);
    assert.equal(other.position?.offset, 2);
    await waitFor(() => h.pubs(ch).length === 2, 2000, 'publications');
    await sleep(30);
    assert.deepEqual(h.pubs(ch).map((e) => str(e.pub.data)), ['1', '2']);
    // The same key on another channel is independent.
    const ch2 = uniqueChannel();
    const elsewhere = await s.broker.publish(ch2, text('x'), { ...WITH_HISTORY, idempotencyKey: 'k1' });
    assert.equal(elsewhere.suppressed, false);
  },

  'idempotency key works without history': async (s, h) => {
    const ch = uniqueChannel();
    await s.broker.subscribe([ch]);
    const first = await s.broker.publish(ch, text('1'), { ...NO_HISTORY, idempotencyKey: 'k' });
    const dup = await s.broker.publish(ch, text('1'), { ...NO_HISTORY, idempotencyKey: 'k' });
    assert.equal(first.suppressed, false);
    assert.equal(dup.suppressed, true);
    assert.equal(dup.position, undefined);
    await waitFor(() => h.pubs(ch).length === 1, 2000, 'publication');
    await sleep(30);
    assert.equal(h.pubs(ch).length, 1);
  },

  'history trimmed to historySize keeps the newest': async (s) => {
    const ch = uniqueChannel();
    for (let i = 1; i <= 5; i++) await s.broker.publish(ch, text(String(i)), { ...WITH_HISTORY, historySize: 3 });
    const read = await s.history!.read(ch, { limit: -1, metaTtlMs: WITH_HISTORY.historyMetaTtlMs });
    assert.equal(read.position.offset, 5);
    assert.deepEqual(read.publications.map((p) => p.offset), [3, 4, 5]);
  },

  'capabilities are declared': async (s) => {
    const c = s.broker.capabilities;
    assert.equal(typeof c.history, 'boolean');
    assert.equal(typeof c.atomicHistory, 'boolean');
    assert.equal(typeof c.presence, 'boolean');
    await Promise.resolve();
  },
};

export const brokerContractCases: readonly string[] = Object.keys(cases);

export function runBrokerContract(name: string, factory: BrokerFactory, skip: SkipMap = {}): void {
  for (const k of Object.keys(skip)) if (!(k in cases)) throw new Error(`unknown broker contract case: ${k}`);
  describe(`broker contract: ${name}`, () => {
    for (const [title, fn] of Object.entries(cases)) {
      const reason = skip[title];
      it(title, reason === undefined ? {} : { skip: reason }, async () => {
        const subject = await factory();
        const handler = new RecordingHandler();
        try {
          await subject.broker.start(handler);
          await fn(subject, handler);
        } finally {
          await subject.close();
        }
      });
    }
  });
}
