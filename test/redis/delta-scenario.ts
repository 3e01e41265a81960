// Delta compression across nodes (docs/delta.md): official centrifuge-js clients with `delta: 'fossil'` on each
// node, publications with `delta: true` through the nodes' APIs in turn. Run on Redis (2 Gyre nodes, Gyre and
// Centrifugo), where the previous publication travels in the PUB/SUB message, and on NATS, where it does not.
import assert from 'node:assert/strict';
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, collect, type ClientPool } from '../harness/clients.js';
import { deltaPayloads, firstSubscribeReply, publishWithDelta, wirePubs } from '../harness/delta.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { uniq, type ServerNode } from './scenarios.js';

/** The delta namespace the scenario uses on a broker with history; servers must have it (scenarioNamespaces). */
export const DELTA_NAMESPACE = {
  name: 'dl',
  history_size: 200,
  history_ttl: '300s',
  force_positioning: true,
  allowed_delta_types: ['fossil'],
  allow_subscribe_for_client: true,
};

export interface DeltaRun {
  subscribers: readonly ServerNode[];
  /** Publication i goes through publishers[i % length]. */
  publishers: readonly ServerNode[];
  /** Publications (default 100), on a fresh channel of the `dl` namespace. */
  count?: number;
  /** ASCII-only changes (a Centrifugo node mangles patches that split a character, docs/delta.md). */
  ascii: boolean;
  /**
   * true: the broker carries the previous publication (history, positioning), so the second and later
   * publications arrive as fossil deltas; false: every one arrives in full (as a JSON string).
   */
  deltas: boolean;
}

export async function deltaAcrossNodes(pool: ClientPool, run: DeltaRun): Promise<void> {
  const channel = uniq('dl:doc');
  const count = run.count ?? 100;
  const subs = [];
  for (const [i, node] of run.subscribers.entries()) {
    const { client, rec } = pool.json(node.url, { token: await connToken({ sub: `delta-u${i}`, expIn: 3600 }) });
    const sub = client.newSubscription(channel, { delta: 'fossil' });
    const pubs = collect<PublicationContext>(sub, 'publication');
    const subscribed = collect<SubscribedContext>(sub, 'subscribed');
    sub.subscribe();
    client.connect();
    await waitFor(() => subscribed.length === 1, { what: `delta subscription on ${node.name}` });
    assert.equal(firstSubscribeReply(rec)?.['delta'], true, `delta granted on ${node.name}`);
    subs.push({ node, client, rec, sub, pubs });
  }
  const apis = run.publishers.map((n) => new CentClient({ url: n.apiUrl, apiKey: API_KEY }));
  const sent = deltaPayloads(count, { ascii: run.ascii });
  // One publication in flight at a time. centrifuge-js 5.7 can apply the pushes of two WebSocket frames that it
  // reads in one go interleaved (its dispatch chain is replaced before the first frame is done), so with two
  // publications in one frame and the next in another the third's delta meets the first as its base ("bad
  // checksum"). PUB/SUB hands a node bursts under load, which makes such frames likely; any server does this.
  for (const [i, data] of sent.entries()) {
    await publishWithDelta(apis[i % apis.length]!, { channel: channel, data, delta: true });
    for (const s of subs) await waitFor(() => s.pubs.length > i, { what: `publication ${i + 1} on ${s.node.name}`, intervalMs: 2 });
  }
  for (const s of subs) {
    const on = s.node.name;
    assert.deepEqual(s.pubs.map((p) => p.data), sent, `data on ${on}`);
    const wire = wirePubs(s.rec, channel);
    assert.ok(wire.every((w) => typeof w.data === 'string'), `delta subscribers get data as a JSON string on ${on}`);
    const stats = s.sub.deltaStats();
    if (run.deltas) {
      assert.deepEqual(s.pubs.map((p) => p.offset), sent.map((_, i) => i + 1), `offsets on ${on}`);
      assert.equal(wire[0]?.delta, false, `the first publication is full on ${on}`);
      assert.equal(wire[1]?.delta, true, `the second one is a delta on ${on}`);
      // Full: the first, the unrelated payloads (every 25th) and, with non-ASCII text, the character splits.
      // (and the one after each of those).
      const atLeast = run.ascii ? count - 2 * Math.ceil(count / 25) - 2 : Math.floor(count * 0.7);
      assert.ok(stats.numDeltaPayloads >= atLeast, `deltas on ${on}: ${JSON.stringify(stats)}`);
      assert.ok(stats.bytesReceived < stats.bytesDecoded / 2, `compression on ${on}: ${JSON.stringify(stats)}`);
    } else {
      assert.ok(wire.every((w) => !w.delta), `no deltas without a previous publication on ${on}`);
      assert.equal(stats.numDeltaPayloads, 0, `deltas on ${on}: ${JSON.stringify(stats)}`);
    }
  }
  for (const s of subs) s.client.disconnect();
}
