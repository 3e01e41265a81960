// Batched broker subscriptions: bursts of local subscribes/unsubscribes cost a few multi-channel broker calls,
// counted with a wrapper around the real memory broker; waiters resolve only after the broker confirmed, failures
// reach only the failed channels, and subscribe/leave races end in the state local interest asks for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hub } from '../../../src/core/hub.js';
import type { Session } from '../../../src/core/session.js';
import { Subscription } from '../../../src/core/subscription.js';
import { MemoryBroker } from '../../../src/engines/memory/index.js';
import {
  PartialSubscribeError,
  type Broker,
  type BrokerEventHandler,
  type PublishOptions,
  type PublishResult,
} from '../../../src/engines/types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../../src/protocol/types.js';
import { Client, makeNode, waitFor } from './core-harness.js';

/** The real memory broker, with every (un)subscribe call recorded and optionally held or failed per channel. */
class CountingBroker implements Broker {
  readonly inner = new MemoryBroker();
  readonly capabilities = this.inner.capabilities;
  readonly calls: { op: 'sub' | 'unsub'; channels: string[] }[] = [];
  /** While set, calls wait for it. */
  gate: Promise<void> | undefined = undefined;
  /** Channels whose subscribe fails (PartialSubscribeError). */
  readonly failing = new Set<string>();

  start(h: BrokerEventHandler): Promise<void> {
    return this.inner.start(h);
  }
  async subscribe(channels: readonly string[]): Promise<void> {
    this.calls.push({ op: 'sub', channels: [...channels] });
    if (this.gate !== undefined) await this.gate;
    const ok = channels.filter((c) => !this.failing.has(c));
    await this.inner.subscribe(ok);
    if (ok.length < channels.length) {
      throw new PartialSubscribeError(channels.filter((c) => this.failing.has(c)), new Error('shard down'));
    }
  }
  async unsubscribe(channels: readonly string[]): Promise<void> {
    this.calls.push({ op: 'unsub', channels: [...channels] });
    if (this.gate !== undefined) await this.gate;
    await this.inner.unsubscribe(channels);
  }
  publish(channel: string, data: Uint8Array, opts: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(channel, data, opts);
  }
  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return this.inner.publishJoin(channel, info);
  }
  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return this.inner.publishLeave(channel, info);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  count(op: 'sub' | 'unsub'): number {
    return this.calls.filter((c) => c.op === op).length;
  }
  channelsIn(op: 'sub' | 'unsub'): string[] {
    return this.calls.filter((c) => c.op === op).flatMap((c) => c.channels);
  }
}

/** Records which channels the broker delivers to (i.e. is subscribed to). */
class Receiver implements BrokerEventHandler {
  readonly got = new Set<string>();
  onPublication(channel: string, _p: Publication, _s: StreamPosition | undefined): void {
    this.got.add(channel);
  }
  onJoin(): void {}
  onLeave(): void {}
}

const NO_HISTORY: PublishOptions = { historySize: 0, historyTtlMs: 0, historyMetaTtlMs: 0 };
const flags = { serverSide: false, presence: false, joinLeave: false, pushJoinLeave: false, positioned: false, recoverable: false };
const fakeSession = {} as Session;
const mk = (ch: string): Subscription => new Subscription(fakeSession, ch, '', flags);
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

function deferred(): { promise: Promise<void>; open(): void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

async function subscribedTo(b: CountingBroker, channels: readonly string[]): Promise<Set<string>> {
  const r = new Receiver();
  await b.inner.start(r);
  for (const ch of channels) await b.inner.publish(ch, new Uint8Array([0x7b, 0x7d]), NO_HISTORY);
  return r.got;
}

const channelNames = Array.from({ length: 100 }, (_, i) => `ch${i}`);

describe('batched broker subscriptions', () => {
  it('10,000 subscribes on 100 channels in one turn: one broker call carrying the 100 channels', async () => {
    const b = new CountingBroker();
    const hub = new Hub(b, () => undefined);
    const subs = Array.from({ length: 10_000 }, (_, i) => mk(channelNames[i % 100]!));
    await Promise.all(subs.map((s) => hub.addSub(s, '')));
    assert.equal(b.count('sub'), 1);
    assert.deepEqual(b.channelsIn('sub').sort(), [...channelNames].sort());
    assert.equal((await subscribedTo(b, channelNames)).size, 100);
    // And they all leaving costs one unsubscribe call.
    for (const s of subs) hub.removeSub(s);
    await nextTurn();
    await nextTurn();
    assert.equal(b.count('unsub'), 1);
    assert.equal(b.channelsIn('unsub').length, 100);
    assert.equal((await subscribedTo(b, channelNames)).size, 0);
  });

  it('a burst spread over 100 turns costs a few calls, and every channel is subscribed once', async () => {
    const b = new CountingBroker();
    const hub = new Hub(b, () => undefined);
    const pending: Promise<void>[] = [];
    for (let turn = 0; turn < 100; turn++) {
      for (let i = 0; i < 100; i++) pending.push(hub.addSub(mk(channelNames[(turn * 37 + i * 7) % 100]!), ''));
      await nextTurn();
    }
    await Promise.all(pending);
    assert.ok(b.count('sub') <= 3, `expected a few subscribe calls, got ${b.count('sub')}`);
    assert.equal(b.channelsIn('sub').length, 100, 'no channel subscribed twice');
    assert.equal(hub.numSubs, 10_000);
  });

  it('large batches are split at maxBatch channels per call', async () => {
    const b = new CountingBroker();
    const hub = new Hub(b, () => undefined, { maxBatch: 30 });
    await Promise.all(channelNames.map((ch) => hub.addSub(mk(ch), '')));
    assert.deepEqual(b.calls.map((c) => c.channels.length), [30, 30, 30, 10]);
  });

  it('addSub resolves only after the broker confirmed', async () => {
    const b = new CountingBroker();
    const gate = deferred();
    b.gate = gate.promise;
    const hub = new Hub(b, () => undefined);
    let resolved = false;
    const p = hub.addSub(mk('x'), '').then(() => (resolved = true));
    await nextTurn();
    await nextTurn();
    assert.equal(b.count('sub'), 1);
    assert.equal(resolved, false);
    // A second subscriber while the call is in flight waits for the same confirmation, without a second call.
    let second = false;
    const p2 = hub.addSub(mk('x'), '').then(() => (second = true));
    await nextTurn();
    assert.equal(second, false);
    gate.open();
    await Promise.all([p, p2]);
    assert.equal(b.count('sub'), 1);
    // Once confirmed, a new subscriber resolves without any call.
    await hub.addSub(mk('x'), '');
    assert.equal(b.count('sub'), 1);
  });

  it('a failure rejects the failed channels only and is reported per channel', async () => {
    const b = new CountingBroker();
    b.failing.add('bad');
    const errors: string[] = [];
    const hub = new Hub(b, (_e, ch) => errors.push(ch));
    const results = await Promise.allSettled(['good1', 'bad', 'good2', 'bad'].map((ch) => hub.addSub(mk(ch), '')));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /shard down/);
    assert.deepEqual(errors, ['bad']);
    assert.equal(b.count('sub'), 1);
    assert.deepEqual([...(await subscribedTo(b, ['good1', 'good2', 'bad']))].sort(), ['good1', 'good2']);
  });

  it('a whole-call failure rejects every channel of the call; a later subscribe tries again', async () => {
    const b = new CountingBroker();
    let fail = true;
    const broker: Broker = Object.assign(Object.create(b) as CountingBroker, {
      subscribe: (chs: readonly string[]) => (fail ? Promise.reject(new Error('down')) : b.subscribe(chs)),
    });
    const errors: string[] = [];
    const hub = new Hub(broker, (_e, ch) => errors.push(ch));
    const s1 = mk('a');
    const s2 = mk('b');
    const r = await Promise.allSettled([hub.addSub(s1, ''), hub.addSub(s2, '')]);
    assert.deepEqual(r.map((x) => x.status), ['rejected', 'rejected']);
    assert.deepEqual(errors.sort(), ['a', 'b']);
    hub.removeSub(s1); // what the subscribe flow does on failure
    hub.removeSub(s2);
    fail = false;
    await hub.addSub(mk('a'), '');
    assert.deepEqual([...(await subscribedTo(b, ['a', 'b']))], ['a']);
  });

  it('leave while subscribing, then rejoin: ends subscribed; leave while unsubscribing, then rejoin: subscribed again', async () => {
    const b = new CountingBroker();
    const hub = new Hub(b, () => undefined);
    const gate = deferred();
    b.gate = gate.promise;
    const s1 = mk('r');
    const p1 = hub.addSub(s1, '');
    await nextTurn(); // subscribe in flight
    hub.removeSub(s1);
    const s2 = mk('r');
    const p2 = hub.addSub(s2, '');
    gate.open();
    b.gate = undefined;
    await Promise.all([p1, p2]);
    await nextTurn();
    await nextTurn();
    assert.equal((await subscribedTo(b, ['r'])).has('r'), true);
    assert.deepEqual(b.calls.map((c) => c.op), ['sub']);

    const gate2 = deferred();
    b.gate = gate2.promise;
    hub.removeSub(s2);
    await nextTurn(); // unsubscribe in flight
    assert.deepEqual(b.calls.map((c) => c.op), ['sub', 'unsub']);
    let done = false;
    const p3 = hub.addSub(mk('r'), '').then(() => (done = true));
    await nextTurn();
    assert.equal(done, false, 'waits for the unsubscribe and a new subscribe');
    gate2.open();
    b.gate = undefined;
    await p3;
    assert.deepEqual(b.calls.map((c) => c.op), ['sub', 'unsub', 'sub']);
    assert.equal((await subscribedTo(b, ['r'])).has('r'), true);
  });

  it('end to end: 1,000 clients subscribing to 100 channels through a Node cost a few broker calls', async () => {
    const tn = await makeNode({ client: { insecure: true } });
    const broker = tn.engine.broker;
    const calls: number[] = [];
    const original = broker.subscribe.bind(broker);
    broker.subscribe = (chs: readonly string[]) => {
      calls.push(chs.length);
      return original(chs);
    };
    try {
      const clients: Client[] = [];
      for (let i = 0; i < 1000; i++) {
        const c = new Client(tn.node);
        c.send({ id: 1, connect: {} }, { id: 2, subscribe: { channel: channelNames[i % 100] } });
        clients.push(c);
      }
      await waitFor(() => clients.every((c) => c.unread().some((m) => m['id'] === 2)), 10_000);
      assert.ok(clients.every((c) => c.unread().some((m) => m['id'] === 2 && m['subscribe'] !== undefined)));
      assert.equal(calls.reduce((a, n) => a + n, 0), 100, 'each channel subscribed once');
      assert.ok(calls.length <= 5, `expected a few broker calls, got ${calls.length}`);
    } finally {
      await tn.close();
    }
  });
});
