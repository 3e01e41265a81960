// HistoryStore contract (docs/protocol.md §5.1, §5.5): offsets, epochs, trimming, reads, TTLs, remove.
// TTL cases use real time with small TTLs; "still there" assertions are made only when the measured
// elapsed time proves the TTL cannot have passed, so a slow machine makes them inconclusive, not red.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnrecoverablePositionError } from '../../src/engines/types.js';
import type { HistoryStore } from '../../src/engines/types.js';
import type { Publication } from '../../src/protocol/types.js';
import { sameBytes, sleep, str, text, uniqueChannel } from './contract-util.js';
import type { SkipMap } from './contract-util.js';

export interface HistorySubject {
  history: HistoryStore;
  close(): Promise<void>;
}
export type HistoryFactory = () => Promise<HistorySubject>;

const META = 3_600_000;
const OPTS = { size: 10, ttlMs: 60_000, metaTtlMs: META };

async function fill(h: HistoryStore, ch: string, n: number, opts = OPTS): Promise<void> {
  for (let i = 1; i <= n; i++) await h.append(ch, { data: text(String(i)) }, opts);
}
const offsets = (pubs: Publication[]): number[] => pubs.map((p) => p.offset ?? -1);

type Case = (h: HistoryStore) => Promise<void>;

const cases: Record<string, Case> = {
  'read creates the stream: offset 0 and a stable epoch': async (h) => {
    const ch = uniqueChannel();
    const a = await h.read(ch, { limit: 0, metaTtlMs: META });
    assert.equal(a.position.offset, 0);
    assert.ok(a.position.epoch.length > 0);
    assert.deepEqual(a.publications, []);
    const b = await h.read(ch, { limit: -1, metaTtlMs: META });
    assert.equal(b.position.epoch, a.position.epoch);
    const r = await h.append(ch, { data: text('x') }, OPTS);
    assert.deepEqual(r.position, { offset: 1, epoch: a.position.epoch });
  },

  'append returns sequential positions; read -1 returns all oldest first with fields': async (h) => {
    const ch = uniqueChannel();
    const r1 = await h.append(ch, { data: text('{"n":1}'), info: { user: 'u', client: 'c', conn_info: text('"ci"') } }, OPTS);
    const r2 = await h.append(ch, { data: text('{"n":2}'), tags: { t: '1' } }, OPTS);
    assert.equal(r1.suppressed, false);
    assert.equal(r1.position.offset, 1);
    assert.equal(r2.position.offset, 2);
    assert.equal(r2.position.epoch, r1.position.epoch);
    const res = await h.read(ch, { limit: -1, metaTtlMs: META });
    assert.deepEqual(res.position, r2.position);
    assert.deepEqual(offsets(res.publications), [1, 2]);
    const [p1, p2] = res.publications;
    assert.equal(str(p1?.data), '{"n":1}');
    assert.equal(p1?.info?.user, 'u');
    assert.equal(p1?.info?.client, 'c');
    assert.ok(sameBytes(p1?.info?.conn_info, text('"ci"')));
    assert.deepEqual(p2?.tags, { t: '1' });
  },

  'limit 0 returns only the position; limit N the oldest N': async (h) => {
    const ch = uniqueChannel();
    await fill(h, ch, 5);
    const zero = await h.read(ch, { limit: 0, metaTtlMs: META });
    assert.deepEqual(zero.publications, []);
    assert.equal(zero.position.offset, 5);
    const two = await h.read(ch, { limit: 2, metaTtlMs: META });
    assert.deepEqual(offsets(two.publications), [1, 2]);
    const many = await h.read(ch, { limit: 100, metaTtlMs: META });
    assert.deepEqual(offsets(many.publications), [1, 2, 3, 4, 5]);
  },

  'append trims to size': async (h) => {
    const ch = uniqueChannel();
    await fill(h, ch, 7, { ...OPTS, size: 3 });
    const res = await h.read(ch, { limit: -1, metaTtlMs: META });
    assert.equal(res.position.offset, 7);
    assert.deepEqual(offsets(res.publications), [5, 6, 7]);
  },

  'forward since returns offsets after since': async (h) => {
    const ch = uniqueChannel();
    await fill(h, ch, 6, { ...OPTS, size: 4 }); // stored 3..6
    const { position } = await h.read(ch, { limit: 0, metaTtlMs: META });
    const after4 = await h.read(ch, { since: { offset: 4, epoch: position.epoch }, limit: -1, metaTtlMs: META });
    assert.deepEqual(offsets(after4.publications), [5, 6]);
    const limited = await h.read(ch, { since: { offset: 3, epoch: position.epoch }, limit: 2, metaTtlMs: META });
    assert.deepEqual(offsets(limited.publications), [4, 5]);
    const old = await h.read(ch, { since: { offset: 1, epoch: position.epoch }, limit: -1, metaTtlMs: META });
    assert.deepEqual(offsets(old.publications), [3, 4, 5, 6], 'since no longer stored ⇒ from the oldest');
    const atTop = await h.read(ch, { since: { offset: 6, epoch: position.epoch }, limit: -1, metaTtlMs: META });
    assert.deepEqual(atTop.publications, []);
    assert.equal(atTop.position.offset, 6);
    const noEpoch = await h.read(ch, { since: { offset: 5, epoch: '' }, limit: -1, metaTtlMs: META });
    assert.deepEqual(offsets(noEpoch.publications), [6], 'empty since.epoch is accepted');
  },

  'reverse reads newest first, with since before it': async (h) => {
    const ch = uniqueChannel();
    await fill(h, ch, 6, { ...OPTS, size: 4 }); // stored 3..6
    const { position } = await h.read(ch, { limit: 0, metaTtlMs: META });
    const all = await h.read(ch, { limit: -1, reverse: true, metaTtlMs: META });
    assert.deepEqual(offsets(all.publications), [6, 5, 4, 3]);
    const two = await h.read(ch, { limit: 2, reverse: true, metaTtlMs: META });
    assert.deepEqual(offsets(two.publications), [6, 5]);
    const before6 = await h.read(ch, { since: { offset: 6, epoch: position.epoch }, limit: -1, reverse: true, metaTtlMs: META });
    assert.deepEqual(offsets(before6.publications), [5, 4, 3]);
    const before5 = await h.read(ch, { since: { offset: 5, epoch: position.epoch }, limit: 1, reverse: true, metaTtlMs: META });
    assert.deepEqual(offsets(before5.publications), [4]);
    const before3 = await h.read(ch, { since: { offset: 3, epoch: position.epoch }, limit: -1, reverse: true, metaTtlMs: META });
    assert.deepEqual(before3.publications, [], 'since-1 no longer stored ⇒ empty');
    const beyond = await h.read(ch, { since: { offset: 7, epoch: position.epoch }, limit: -1, reverse: true, metaTtlMs: META });
    assert.deepEqual(offsets(beyond.publications), [6, 5, 4, 3], 'since = top+1 ⇒ from the newest');
  },

  'since with another epoch throws UnrecoverablePositionError carrying the current position': async (h) => {
    const ch = uniqueChannel();
    await fill(h, ch, 2);
    const { position } = await h.read(ch, { limit: 0, metaTtlMs: META });
    await assert.rejects(
      h.read(ch, { since: { offset: 1, epoch: 'not-the-epoch' }, limit: -1, metaTtlMs: META }),
      (err: unknown) => {
        assert.ok(err instanceof UnrecoverablePositionError);
        assert.deepEqual(err.position, position);
        return true;
      },
    );
    // A stream that does not exist yet is created with a fresh epoch, so any given epoch mismatches.
    await assert.rejects(
      h.read(uniqueChannel(), { since: { offset: 3, epoch: 'gone' }, limit: -1, metaTtlMs: META }),
      UnrecoverablePositionError,
    );
  },

  'remove clears publications but keeps offset and epoch': async (h) => {
    const ch = uniqueChannel();
    await fill(h, ch, 3);
    const before = await h.read(ch, { limit: 0, metaTtlMs: META });
    await h.remove(ch);
    const after = await h.read(ch, { limit: -1, metaTtlMs: META });
    assert.deepEqual(after.publications, []);
    assert.deepEqual(after.position, before.position);
    const r = await h.append(ch, { data: text('4') }, OPTS);
    assert.deepEqual(r.position, { offset: 4, epoch: before.position.epoch });
    await h.remove(uniqueChannel()); // unknown channel: no error
  },

  'idempotent append returns the first position': async (h) => {
    const ch = uniqueChannel();
    const a = await h.append(ch, { data: text('a') }, { ...OPTS, idempotencyKey: 'k' });
    const b = await h.append(ch, { data: text('a') }, { ...OPTS, idempotencyKey: 'k' });
    assert.equal(a.suppressed, false);
    assert.equal(b.suppressed, true);
    assert.deepEqual(b.position, a.position);
    const res = await h.read(ch, { limit: -1, metaTtlMs: META });
    assert.deepEqual(offsets(res.publications), [1]);
  },

  'channels are independent streams': async (h) => {
    const a = uniqueChannel();
    const b = uniqueChannel();
    await fill(h, a, 3);
    await fill(h, b, 1);
    const ra = await h.read(a, { limit: -1, metaTtlMs: META });
    const rb = await h.read(b, { limit: -1, metaTtlMs: META });
    assert.equal(ra.position.offset, 3);
    assert.equal(rb.position.offset, 1);
    assert.notEqual(ra.position.epoch, rb.position.epoch);
  },

  'history ttl clears publications but keeps offset and epoch': async (h) => {
    const ch = uniqueChannel();
    await fill(h, ch, 2, { ...OPTS, ttlMs: 100 });
    const before = await h.read(ch, { limit: 0, metaTtlMs: META });
    await sleep(300);
    const after = await h.read(ch, { limit: -1, metaTtlMs: META });
    assert.deepEqual(after.publications, []);
    assert.deepEqual(after.position, before.position);
  },

  'history ttl counts from the last publication': async (h) => {
    const ch = uniqueChannel();
    const ttlMs = 400;
    const t0 = Date.now();
    await h.append(ch, { data: text('1') }, { ...OPTS, ttlMs });
    await sleep(250);
    await h.append(ch, { data: text('2') }, { ...OPTS, ttlMs });
    const t1 = Date.now();
    await sleep(200);
    const tRead = Date.now();
    const res = await h.read(ch, { limit: -1, metaTtlMs: META });
    if (tRead - t0 > ttlMs && tRead - t1 < ttlMs - 50) {
      assert.deepEqual(offsets(res.publications), [1, 2], 'the second append refreshed the ttl of both');
    }
  },

  'meta ttl expiry drops the stream: new epoch, offsets restart': async (h) => {
    const ch = uniqueChannel();
    const opts = { size: 10, ttlMs: 100, metaTtlMs: 200 };
    await fill(h, ch, 3, opts);
    const before = await h.read(ch, { limit: 0, metaTtlMs: 200 });
    assert.equal(before.position.offset, 3);
    await sleep(450);
    const after = await h.read(ch, { limit: -1, metaTtlMs: 200 });
    assert.equal(after.position.offset, 0);
    assert.notEqual(after.position.epoch, before.position.epoch);
    const r = await h.append(ch, { data: text('x') }, opts);
    assert.deepEqual(r.position, { offset: 1, epoch: after.position.epoch });
  },

  'reads refresh the meta ttl': async (h) => {
    const ch = uniqueChannel();
    const metaTtlMs = 400;
    const t0 = Date.now();
    await h.append(ch, { data: text('1') }, { size: 10, ttlMs: 100, metaTtlMs });
    const first = await h.read(ch, { limit: 0, metaTtlMs });
    await sleep(250);
    await h.read(ch, { limit: 0, metaTtlMs });
    const t1 = Date.now();
    await sleep(250);
    const tRead = Date.now();
    const res = await h.read(ch, { limit: 0, metaTtlMs });
    if (tRead - t0 > metaTtlMs && tRead - t1 < metaTtlMs - 50) {
      assert.deepEqual(res.position, first.position, 'the read in between kept the stream alive');
    }
  },
};

export const historyContractCases: readonly string[] = Object.keys(cases);

export function runHistoryContract(name: string, factory: HistoryFactory, skip: SkipMap = {}): void {
  for (const k of Object.keys(skip)) if (!(k in cases)) throw new Error(`unknown history contract case: ${k}`);
  describe(`history contract: ${name}`, () => {
    for (const [title, fn] of Object.entries(cases)) {
      const reason = skip[title];
      it(title, reason === undefined ? {} : { skip: reason }, async () => {
        const subject = await factory();
        try {
          await fn(subject.history);
        } finally {
          await subject.close();
        }
      });
    }
  });
}
