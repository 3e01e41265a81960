// Hub: broker subscribe on the first local subscriber, unsubscribe after the last, serialised per channel so
// subscribe/unsubscribe races end in the right broker state; removals during fan-out are deferred.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Broker, BrokerEventHandler, PublishResult } from '../../../src/engines/types.js';
import { Hub } from '../../../src/core/hub.js';
import { Subscription } from '../../../src/core/subscription.js';
import type { Session } from '../../../src/core/session.js';

class SlowBroker implements Broker {
  readonly capabilities = { history: false, atomicHistory: false, presence: false };
  readonly calls: string[] = [];
  readonly subscribed = new Set<string>();
  fail = false;
  start(_h: BrokerEventHandler): Promise<void> {
    return Promise.resolve();
  }
  async subscribe(channels: readonly string[]): Promise<void> {
    this.calls.push(`sub:${channels.join(',')}`);
    await new Promise((r) => setTimeout(r, 5));
    if (this.fail) throw new Error('broker down');
    for (const c of channels) this.subscribed.add(c);
  }
  async unsubscribe(channels: readonly string[]): Promise<void> {
    this.calls.push(`unsub:${channels.join(',')}`);
    await new Promise((r) => setTimeout(r, 5));
    for (const c of channels) this.subscribed.delete(c);
  }
  publish(): Promise<PublishResult> {
    return Promise.resolve({ suppressed: false });
  }
  publishJoin(): Promise<void> {
    return Promise.resolve();
  }
  publishLeave(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const flags = { serverSide: false, presence: false, joinLeave: false, pushJoinLeave: false, positioned: false, recoverable: false };
const fakeSession = {} as Session;
const mk = (ch: string): Subscription => new Subscription(fakeSession, ch, '', flags);
const idle = (): Promise<void> => new Promise((r) => setTimeout(r, 40));

describe('hub', () => {
  it('subscribes the broker once for many local subscribers and unsubscribes after the last', async () => {
    const b = new SlowBroker();
    const hub = new Hub(b, () => undefined);
    const subs = [mk('a'), mk('a'), mk('a')];
    await Promise.all(subs.map((s) => hub.addSub(s, '')));
    assert.deepEqual(b.calls, ['sub:a']);
    assert.equal(hub.numSubs, 3);
    hub.removeSub(subs[0]!);
    hub.removeSub(subs[1]!);
    await idle();
    assert.deepEqual(b.calls, ['sub:a']);
    hub.removeSub(subs[2]!);
    await idle();
    assert.deepEqual(b.calls, ['sub:a', 'unsub:a']);
    assert.equal(b.subscribed.has('a'), false);
    assert.equal(hub.numSubs, 0);
    assert.equal(hub.numChannels, 0);
  });

  it('add/remove/add race ends subscribed; add/remove race ends unsubscribed', async () => {
    const b = new SlowBroker();
    const hub = new Hub(b, () => undefined);
    const s1 = mk('r');
    const p1 = hub.addSub(s1, '');
    hub.removeSub(s1);
    const s2 = mk('r');
    const p2 = hub.addSub(s2, '');
    await Promise.all([p1.catch(() => undefined), p2]);
    await idle();
    assert.equal(b.subscribed.has('r'), true);
    hub.removeSub(s2);
    const s3 = mk('r');
    const p3 = hub.addSub(s3, '');
    hub.removeSub(s3);
    await p3.catch(() => undefined);
    await idle();
    assert.equal(b.subscribed.has('r'), false);
  });

  it('broker failure rejects addSub and reports the error', async () => {
    const b = new SlowBroker();
    b.fail = true;
    const errors: string[] = [];
    const hub = new Hub(b, (_e, ch) => errors.push(ch));
    const s = mk('f');
    await assert.rejects(hub.addSub(s, ''), /broker down/);
    assert.deepEqual(errors, ['f']);
  });

  it('removals during iteration are deferred until the loop ends', async () => {
    const b = new SlowBroker();
    const hub = new Hub(b, () => undefined);
    const subs = [mk('i'), mk('i'), mk('i')];
    await Promise.all(subs.map((s) => hub.addSub(s, '')));
    const arr = hub.channels.get('i')!.subs;
    hub.beginIteration();
    hub.removeSub(subs[0]!);
    assert.equal(arr.length, 3);
    hub.endIteration();
    assert.equal(arr.length, 2);
    assert.equal(arr.every((s, i) => s.hubIndex === i), true);
  });
});
