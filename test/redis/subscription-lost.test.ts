// A Gyre process on a real redis-server whose PUB/SUB connection is killed (CLIENT KILL TYPE pubsub): the node
// tells the subscribers that track a stream position that they may have missed publications. A client-side
// subscription gets the unsubscribe push 2500 and resubscribes; a server-side one (from the connection token's
// `channels`) is disconnected with 3010 and reconnects. Both come back from their position (the publication they
// had is not delivered again) and get every later one once, at its offset. The client-side subscription's
// resubscribe is held (its getData callback waits) until three publications were made in the gap, so the order of
// the events the official client emits is fixed and checked: subscribing (2500), subscribed with recovered: true,
// the recovered publications, then the live one; never unsubscribed, no gap, no duplicate. (The core's side of this
// is unit-tested in test/unit/core/fanout.test.ts; this is the same over a real Redis and the official client.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublicationContext, ServerPublicationContext, SubscribedContext, SubscribingContext, UnsubscribedContext } from 'centrifuge';
import { callApi, ClientPool, collect } from '../harness/clients.js';
import { redisCli, startRedis, type RedisServer } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { startGyreNodes, type GyreNode } from './nodes.js';
import { uniq } from './scenarios.js';

describe('redis: subscribers told after a PUB/SUB connection loss', () => {
  let redis: RedisServer;
  let nodes: GyreNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    redis = await startRedis();
    nodes = await startGyreNodes({ address: [redis.address], prefix: 'sl' }, ['gyre-sl']);
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await redis?.stop();
  });

  it('2500 to a client-side subscription, 3010 to a connection with a server-side one; both recover', async () => {
    const node = nodes[0]!;
    const clientSide = uniq('xx:cs');
    const serverSide = uniq('xx:ss');

    const { client: a } = pool.json(node.url, { token: await connToken({ sub: 'sl-a', expIn: 3600 }) });
    // Every subscribe attempt asks getData first: the first one goes at once, a later one waits for `release`.
    let subscribeAttempts = 0;
    let release: () => void = () => undefined;
    const gapDone = new Promise<void>((resolve) => (release = resolve));
    const sub = a.newSubscription(clientSide, {
      getData: async () => {
        subscribeAttempts++;
        if (subscribeAttempts > 1) await gapDone;
        return null;
      },
    });
    const pubsA = collect<PublicationContext>(sub, 'publication');
    const subscribing = collect<SubscribingContext>(sub, 'subscribing');
    const subscribedA = collect<SubscribedContext>(sub, 'subscribed');
    // The client-side subscription's events, in the order the client emits them.
    const eventsA: string[] = [];
    sub.on('subscribing', (c) => eventsA.push(`subscribing ${c.code}`));
    sub.on('subscribed', (c) => eventsA.push(`subscribed recovered=${String(c.recovered)} wasRecovering=${String(c.wasRecovering)}`));
    sub.on('unsubscribed', (c: UnsubscribedContext) => eventsA.push(`unsubscribed ${c.code}`));
    sub.on('publication', (p) => eventsA.push(`publication n=${(p.data as { n: number }).n} offset=${Number(p.offset)}`));
    sub.subscribe();
    a.connect();

    const { client: b } = pool.json(node.url, { token: await connToken({ sub: 'sl-b', expIn: 3600, channels: [serverSide] }) });
    const pubsB = collect<ServerPublicationContext>(b, 'publication');
    const connectingB: number[] = [];
    b.on('connecting', (c) => connectingB.push(c.code));
    const subscribedB = collect<unknown>(b, 'subscribed');
    b.connect();
    await waitFor(() => subscribedA.length === 1 && subscribedB.length === 1, { what: 'both subscribed' });

    const publish = async (channel: string, n: number): Promise<number> => {
      const r = await callApi(node.apiUrl, 'publish', { channel, data: { n } });
      assert.equal(r.status, 200, r.text);
      return Number((r.body as { result: { offset: number } }).result.offset);
    };
    await publish(clientSide, 1);
    await publish(serverSide, 1);
    await waitFor(() => pubsA.length === 1 && pubsB.length === 1, { what: 'the first publications' });

    const connectingBefore = connectingB.length;
    await redisCli(redis.port, 'client', 'kill', 'type', 'pubsub');
    await waitFor(() => subscribing.some((s) => s.code === 2500), { what: 'the client-side subscription told 2500', timeoutMs: 10_000 });
    await waitFor(() => connectingB.slice(connectingBefore).includes(3010), { what: 'the server-side connection closed with 3010', timeoutMs: 10_000 });

    // The client's resubscribe is waiting in getData: 2, 3 and 4 are published while it is not subscribed.
    await waitFor(() => subscribeAttempts === 2, { what: 'the resubscribe asking getData', timeoutMs: 10_000 });
    for (let n = 2; n <= 4; n++) {
      await publish(clientSide, n);
      await publish(serverSide, n);
    }
    release();
    await waitFor(() => subscribedA.length === 2, { what: 'the client-side subscription back', timeoutMs: 10_000 });
    await publish(clientSide, 5);
    await publish(serverSide, 5);
    await waitFor(() => pubsA.length >= 5 && pubsB.length >= 5, { what: 'every publication at both', timeoutMs: 10_000 });
    assert.deepEqual(
      pubsA.map((p) => [(p.data as { n: number }).n, Number(p.offset)]),
      [1, 2, 3, 4, 5].map((n) => [n, n]),
      'client-side: each once, at its offset',
    );
    assert.deepEqual(eventsA, [
      'subscribing 0',
      'subscribed recovered=false wasRecovering=false',
      'publication n=1 offset=1',
      'subscribing 2500',
      // Recovered from offset 1: the three publications of the gap come with the subscribe reply, in order.
      'subscribed recovered=true wasRecovering=true',
      'publication n=2 offset=2',
      'publication n=3 offset=3',
      'publication n=4 offset=4',
      // Then the live one.
      'publication n=5 offset=5',
    ]);
    assert.deepEqual(
      pubsB.filter((p) => p.channel === serverSide).map((p) => [(p.data as { n: number }).n, Number(p.offset)]),
      [1, 2, 3, 4, 5].map((n) => [n, n]),
      'server-side: each once, at its offset',
    );
    a.disconnect();
    b.disconnect();
  });
});
