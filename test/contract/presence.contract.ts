// PresenceManager contract: upsert, remove, get, stats (distinct users) and expiry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PresenceManager } from '../../src/engines/types.js';
import { sameBytes, sleep, text, uniqueChannel } from './contract-util.js';
import type { SkipMap } from './contract-util.js';

export interface PresenceSubject {
  presence: PresenceManager;
  close(): Promise<void>;
}
/** Creates a presence manager whose entries expire `presenceTtlMs` after their last add. */
export type PresenceFactory = (opts: { presenceTtlMs: number }) => Promise<PresenceSubject>;

const LONG_TTL = 60_000;

interface Case {
  ttlMs: number;
  fn: (p: PresenceManager) => Promise<void>;
}

const cases: Record<string, Case> = {
  'add then get returns the client info': {
    ttlMs: LONG_TTL,
    fn: async (p) => {
      const ch = uniqueChannel();
      await p.add(ch, 'c1', { user: 'u1', client: 'c1', conn_info: text('{"n":1}'), chan_info: text('"x"') });
      const m = await p.get(ch);
      assert.deepEqual([...m.keys()], ['c1']);
      const info = m.get('c1');
      assert.equal(info?.user, 'u1');
      assert.equal(info?.client, 'c1');
      assert.ok(sameBytes(info?.conn_info, text('{"n":1}')));
      assert.ok(sameBytes(info?.chan_info, text('"x"')));
    },
  },

  'add is an upsert': {
    ttlMs: LONG_TTL,
    fn: async (p) => {
      const ch = uniqueChannel();
      await p.add(ch, 'c1', { user: 'u1', client: 'c1', conn_info: text('1') });
      await p.add(ch, 'c1', { user: 'u1', client: 'c1', conn_info: text('2') });
      const m = await p.get(ch);
      assert.equal(m.size, 1);
      assert.ok(sameBytes(m.get('c1')?.conn_info, text('2')));
      assert.deepEqual(await p.stats(ch), { numClients: 1, numUsers: 1 });
    },
  },

  'remove deletes one client': {
    ttlMs: LONG_TTL,
    fn: async (p) => {
      const ch = uniqueChannel();
      await p.add(ch, 'c1', { user: 'u1', client: 'c1' });
      await p.add(ch, 'c2', { user: 'u1', client: 'c2' });
      await p.remove(ch, 'c1', 'u1');
      assert.deepEqual([...(await p.get(ch)).keys()], ['c2']);
      assert.deepEqual(await p.stats(ch), { numClients: 1, numUsers: 1 });
      await p.remove(ch, 'c2', 'u1');
      assert.equal((await p.get(ch)).size, 0);
      assert.deepEqual(await p.stats(ch), { numClients: 0, numUsers: 0 });
      await p.remove(uniqueChannel(), 'nope', 'nobody'); // unknown: no error
    },
  },

  'stats counts clients and distinct users; anonymous counts as one user': {
    ttlMs: LONG_TTL,
    fn: async (p) => {
      const ch = uniqueChannel();
      await p.add(ch, 'c1', { user: 'u1', client: 'c1' });
      await p.add(ch, 'c2', { user: 'u1', client: 'c2' });
      await p.add(ch, 'c3', { user: 'u2', client: 'c3' });
      await p.add(ch, 'c4', { user: '', client: 'c4' });
      await p.add(ch, 'c5', { user: '', client: 'c5' });
      assert.deepEqual(await p.stats(ch), { numClients: 5, numUsers: 3 });
      assert.equal((await p.get(ch)).size, 5);
    },
  },

  'channels are independent': {
    ttlMs: LONG_TTL,
    fn: async (p) => {
      const a = uniqueChannel();
      const b = uniqueChannel();
      await p.add(a, 'c1', { user: 'u1', client: 'c1' });
      assert.equal((await p.get(b)).size, 0);
      assert.deepEqual(await p.stats(b), { numClients: 0, numUsers: 0 });
    },
  },

  'entries expire unless refreshed': {
    ttlMs: 150,
    fn: async (p) => {
      const ch = uniqueChannel();
      await p.add(ch, 'c1', { user: 'u1', client: 'c1' });
      await sleep(400);
      assert.equal((await p.get(ch)).size, 0);
      assert.deepEqual(await p.stats(ch), { numClients: 0, numUsers: 0 });
    },
  },

  'add refreshes the expiry': {
    ttlMs: 400,
    fn: async (p) => {
      const ch = uniqueChannel();
      const t0 = Date.now();
      await p.add(ch, 'c1', { user: 'u1', client: 'c1' });
      await p.add(ch, 'c2', { user: 'u2', client: 'c2' });
      await sleep(250);
      await p.add(ch, 'c1', { user: 'u1', client: 'c1' });
      const t1 = Date.now();
      await sleep(250);
      const tRead = Date.now();
      const m = await p.get(ch);
      if (tRead - t0 > 400 + 50 && tRead - t1 < 400 - 50) {
        assert.deepEqual([...m.keys()], ['c1'], 'c1 refreshed, c2 expired');
      }
    },
  },
};

export const presenceContractCases: readonly string[] = Object.keys(cases);

export function runPresenceContract(name: string, factory: PresenceFactory, skip: SkipMap = {}): void {
  for (const k of Object.keys(skip)) if (!(k in cases)) throw new Error(`unknown presence contract case: ${k}`);
  describe(`presence contract: ${name}`, () => {
    for (const [title, c] of Object.entries(cases)) {
      const reason = skip[title];
      it(title, reason === undefined ? {} : { skip: reason }, async () => {
        const subject = await factory({ presenceTtlMs: c.ttlMs });
        try {
          await c.fn(subject.presence);
        } finally {
          await subject.close();
        }
      });
    }
  });
}
