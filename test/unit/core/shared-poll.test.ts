// Shared poll internals (docs/shared-poll.md): track signatures with key rotation, how backend answers and publishes
// become updates (versioned, versionless, late joiners, removals, epoch changes), and the node-wide bound on
// backend calls in flight.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { PollChannel } from '../../../src/core/shared-poll/channel.js';
import { SharedPollSub } from '../../../src/core/shared-poll/connection.js';
import { SharedPollManager } from '../../../src/core/shared-poll/manager.js';
import { pollOptions } from '../../../src/core/shared-poll/options.js';
import { checkTrackSignature, signTrack } from '../../../src/core/shared-poll/signature.js';
import type { Session } from '../../../src/core/session.js';
import { Subscription } from '../../../src/core/subscription.js';
import { codecFor } from '../../../src/protocol/index.js';
import { Semaphore } from '../../../src/util/semaphore.js';
import { sharedPollChannelDefaults } from './config-fixture.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const NOW = 1_800_000_000;
const keys = { hmac_secret_key: 'cur', hmac_previous_secret_key: '', hmac_previous_secret_key_valid_until: 0, concurrency_limit: 0 };

describe('track signatures', () => {
  const sig = (secret: string, iat = NOW - 10, exp = NOW + 60, user = 'u', channel = 'p:c', k = ['a', 'b']): string =>
    signTrack(secret, channel, k, user, iat, exp);

  it('checks user, channel, the exact key list and the secret', () => {
    assert.deepEqual(checkTrackSignature(keys, sig('cur'), 'p:c', ['a', 'b'], 'u', NOW), { ok: true, expiresAt: NOW + 60 });
    for (const [s, ch, k, user] of [
      [sig('cur'), 'p:c', ['b', 'a'], 'u'],
      [sig('cur'), 'p:c', ['a'], 'u'],
      [sig('cur'), 'p:d', ['a', 'b'], 'u'],
      [sig('cur'), 'p:c', ['a', 'b'], 'v'],
      [sig('other'), 'p:c', ['a', 'b'], 'u'],
      ['1:2', 'p:c', ['a', 'b'], 'u'],
      ['garbage', 'p:c', ['a', 'b'], 'u'],
      [sig('cur').toUpperCase(), 'p:c', ['a', 'b'], 'u'],
    ] as const) {
      assert.deepEqual(checkTrackSignature(keys, s, ch, k, user, NOW), { ok: false, reason: 'invalid' }, s);
    }
  });

  it('expires 5 s after its expiry', () => {
    assert.equal(checkTrackSignature(keys, sig('cur', NOW - 100, NOW - 4), 'p:c', ['a', 'b'], 'u', NOW).ok, true);
    assert.deepEqual(checkTrackSignature(keys, sig('cur', NOW - 100, NOW - 6), 'p:c', ['a', 'b'], 'u', NOW), { ok: false, reason: 'expired' });
    assert.deepEqual(checkTrackSignature(keys, sig('cur', NOW, 0), 'p:c', ['a', 'b'], 'u', NOW), { ok: true, expiresAt: 0 });
  });

  it('accepts the previous key during rotation, not for signatures issued after valid_until', () => {
    const rotating = { ...keys, hmac_previous_secret_key: 'old', hmac_previous_secret_key_valid_until: NOW - 5 };
    assert.equal(checkTrackSignature(rotating, sig('old', NOW - 6), 'p:c', ['a', 'b'], 'u', NOW).ok, true);
    assert.equal(checkTrackSignature(rotating, sig('old', NOW - 4), 'p:c', ['a', 'b'], 'u', NOW).ok, false);
    assert.equal(checkTrackSignature(rotating, sig('cur', NOW - 4), 'p:c', ['a', 'b'], 'u', NOW).ok, true);
    assert.equal(checkTrackSignature({ ...rotating, hmac_previous_secret_key_valid_until: 0 }, sig('old', NOW), 'p:c', ['a', 'b'], 'u', NOW).ok, true);
  });
});

/** A connection that records what it was sent (JSON protocol). */
function tracker(channel: string, tracked: Record<string, number>): { sp: SharedPollSub; sent: Array<Record<string, unknown>> } {
  const sent: Array<Record<string, unknown>> = [];
  const session = {
    json: true,
    codec: codecFor('json'),
    deliver: (b: Uint8Array) => sent.push((JSON.parse(new TextDecoder().decode(b)) as { push: { pub: Record<string, unknown> } }).push.pub),
  } as unknown as Session;
  const sub = new Subscription(session, channel, 'p', { serverSide: false, presence: false, joinLeave: false, pushJoinLeave: false, positioned: false, recoverable: false });
  const sp = new SharedPollSub(session, sub, channel);
  for (const [k, v] of Object.entries(tracked)) sp.tracked.set(k, { version: v, expireAt: 0 });
  return { sp, sent };
}

function channelWith(mode: '' | 'versioned', subs: SharedPollSub[], key: string): PollChannel {
  const ch = new PollChannel('p:c', pollOptions({ ...sharedPollChannelDefaults(), mode }));
  const { entry } = ch.entry(key);
  for (const s of subs) entry.subs.add(s);
  return ch;
}

const noUnsub = (): void => assert.fail('nobody should be unsubscribed');

describe('poll answers into updates', () => {
  it('versioned: newer versions go out, each connection gets only what is newer than it holds', () => {
    const a = tracker('p:c', { k: 0 });
    const b = tracker('p:c', { k: 3 });
    const ch = channelWith('versioned', [a.sp, b.sp], 'k');
    ch.apply([{ key: 'k', data: enc('{"v":3}'), version: 3, removed: false }], '', 'timer', noUnsub);
    assert.deepEqual(a.sent, [{ data: { v: 3 }, key: 'k', version: 3 }]);
    assert.deepEqual(b.sent, []);
    ch.apply([{ key: 'k', data: enc('{"v":3}'), version: 3, removed: false }], '', 'timer', noUnsub);
    ch.apply([{ key: 'k', data: enc('{"v":2}'), version: 2, removed: false }], '', 'timer', noUnsub);
    assert.equal(a.sent.length, 1);
    ch.apply([{ key: 'k', data: enc('{"v":4}'), version: 4, removed: false }, { key: 'unknown', data: enc('1'), version: 9, removed: false }], '', 'timer', noUnsub);
    assert.deepEqual(a.sent.at(-1), { data: { v: 4 }, key: 'k', version: 4 });
    assert.deepEqual(b.sent, [{ data: { v: 4 }, key: 'k', version: 4 }]);
  });

  it('a late joiner gets the unchanged data once it is marked for re-broadcast', () => {
    const a = tracker('p:c', { k: 0 });
    const ch = channelWith('versioned', [a.sp], 'k');
    ch.apply([{ key: 'k', data: enc('"x"'), version: 5, removed: false }], '', 'timer', noUnsub);
    const late = tracker('p:c', { k: 0 });
    const e = ch.entries.get('k')!;
    e.subs.add(late.sp);
    ch.apply([{ key: 'k', data: enc('"x"'), version: 5, removed: false }], '', 'timer', noUnsub);
    assert.equal(late.sent.length, 0, 'unchanged data is not re-sent unless asked');
    e.needsBroadcast = true;
    ch.apply([{ key: 'k', data: enc('"x"'), version: 5, removed: false }], '', 'notification', noUnsub);
    assert.deepEqual(late.sent, [{ data: 'x', key: 'k', version: 5 }]);
    assert.equal(a.sent.length, 1);
    assert.equal(e.needsBroadcast, false);
  });

  it('removals reach every tracker and drop the key', () => {
    const a = tracker('p:c', { k: 1 });
    const ch = channelWith('versioned', [a.sp], 'k');
    ch.apply([{ key: 'k', version: 2, removed: true }], '', 'timer', noUnsub);
    assert.deepEqual(a.sent, [{ key: 'k', removed: true }]);
    assert.equal(a.sp.tracked.has('k'), false);
    assert.equal(ch.entries.size, 0);
  });

  it('versioned: a new epoch resets the keys and unsubscribes their trackers', () => {
    const a = tracker('p:c', { k: 0 });
    const ch = channelWith('versioned', [a.sp], 'k');
    ch.apply([{ key: 'k', data: enc('1'), version: 7, removed: false }], 'e1', 'timer', (subs) => assert.deepEqual(subs, [a.sp]));
    assert.equal(ch.epoch, 'e1');
    let flipped: SharedPollSub[] = [];
    ch.apply([], 'e2', 'timer', (subs) => (flipped = subs));
    assert.deepEqual(flipped, [a.sp]);
    assert.equal(ch.entries.get('k')?.version, 0);
  });

  it('versionless: changes are found by content and numbered by the node', () => {
    const a = tracker('p:c', { k: 0 });
    const ch = channelWith('', [a.sp], 'k');
    assert.equal(ch.epoch.length, 8);
    ch.apply([{ key: 'k', data: enc('{"a":1}'), version: 0, removed: false }], '', 'timer', noUnsub);
    ch.apply([{ key: 'k', data: enc('{"a":1}'), version: 0, removed: false }], '', 'timer', noUnsub);
    ch.apply([{ key: 'k', data: enc('{"a":2}'), version: 0, removed: false }], '', 'timer', noUnsub);
    assert.deepEqual(a.sent, [
      { data: { a: 1 }, key: 'k', version: 1 },
      { data: { a: 2 }, key: 'k', version: 2 },
    ]);
  });

  it('a publish applies newer versions only and the next timer cycle skips the key once', () => {
    const a = tracker('p:c', { k: 0 });
    const ch = channelWith('versioned', [a.sp], 'k');
    assert.equal(ch.publish('k', 3, '', enc('3'), noUnsub), true);
    assert.equal(ch.publish('k', 3, '', enc('3'), noUnsub), false);
    assert.equal(ch.publish('other', 9, '', enc('9'), noUnsub), false);
    assert.deepEqual(a.sent, [{ data: 3, key: 'k', version: 3 }]);
    assert.equal(ch.entries.get('k')?.freshFromPublish, true);
  });
});

describe('backend calls', () => {
  it('a semaphore never lets more than its limit in', async () => {
    const sem = new Semaphore(2);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const release = await sem.acquire();
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setImmediate(r));
        inside--;
        release();
        release(); // a second release is ignored
      }),
    );
    assert.equal(most, 2);
    assert.equal(sem.inUse, 0);
  });

  it('concurrency_limit bounds calls across channels, and close() stops every loop', async () => {
    let inflight = 0;
    let most = 0;
    let calls = 0;
    const manager = new SharedPollManager({
      concurrencyLimit: 2,
      logger: pino({ level: 'silent' }),
      insufficientState: noUnsub,
      refresher: async (_channel, _proxy, items) => {
        calls++;
        inflight++;
        most = Math.max(most, inflight);
        await new Promise((r) => setTimeout(r, 5));
        inflight--;
        return { items: items.map((i) => ({ key: i.key, data: enc('1'), version: 1, removed: false })), epoch: '' };
      },
    });
    const opts = pollOptions({ ...sharedPollChannelDefaults(), mode: 'versioned', refresh_interval: 10 });
    for (let i = 0; i < 6; i++) {
      const { sp } = tracker(`p:c${i}`, { k: 0 });
      manager.serve(sp.channel, manager.track(sp, opts, [{ key: 'k', version: 0 }]));
    }
    for (let i = 0; i < 200 && calls < 30; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(calls >= 6, `every channel polled (${calls} calls)`);
    assert.ok(most <= 2, `at most 2 calls in flight, saw ${most}`);
    manager.close();
    assert.deepEqual(manager.stats(), { channels: 0, keys: 0 });
    const after = calls;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls, after, 'no new calls after close');
  });

  it('keys whose track signature expired (plus track_expired_extra_delay) stop being tracked', async () => {
    const manager = new SharedPollManager({
      concurrencyLimit: 1,
      logger: pino({ level: 'silent' }),
      insufficientState: noUnsub,
      refresher: () => Promise.resolve({ items: [], epoch: '' }),
      expirySweepMs: 5,
    });
    const opts = pollOptions({ ...sharedPollChannelDefaults(), mode: 'versioned', track_expired_extra_delay: 1 });
    const now = Math.floor(Date.now() / 1000);
    const { sp } = tracker('p:e', {});
    sp.tracked.set('old', { version: 0, expireAt: now - 2 });
    sp.tracked.set('fresh', { version: 0, expireAt: now + 3600 });
    sp.tracked.set('forever', { version: 0, expireAt: 0 });
    sp.minExpireAt = now - 2;
    manager.attach(sp);
    manager.track(sp, opts, [...sp.tracked.keys()].map((key) => ({ key, version: 0 })));
    for (let i = 0; i < 200 && sp.tracked.has('old'); i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual([...sp.tracked.keys()].sort(), ['forever', 'fresh']);
    assert.equal(sp.minExpireAt, now + 3600);
    assert.deepEqual(manager.stats(), { channels: 1, keys: 2 });
    manager.detach(sp);
    manager.close();
  });
});
