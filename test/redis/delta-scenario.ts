// Delta compression across nodes (docs/delta.md): official centrifuge-js clients with `delta: 'fossil'` on each
// node, publications with `delta: true` through the nodes' APIs in turn. Run on Redis (2 Gyre nodes, Gyre and
// Centrifugo), where the previous publication travels in the PUB/SUB message, and on NATS, where it does not.
import assert from 'node:assert/strict';
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { applyDelta } from 'fossil-delta';
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

/**
 * Bursts: publications with delta sent `parallel` at a time through the publishers, read by a raw WebSocket on
 * `subscriber` (no client library, so nothing but the server decides the order). Every delta applies to the
 * publication before it in offset order, and each decodes to what was published at its offset.
 */
export async function deltaBursts(pool: ClientPool, subscriber: ServerNode, publishers: readonly ServerNode[], parallel: number): Promise<void> {
  const channel = uniq('dl:burst');
  const ws = pool.raw(subscriber.url);
  const frames: string[] = [];
  ws.on('message', (d: Buffer) => frames.push(d.toString('utf8')));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const token = await connToken({ sub: 'delta-burst', expIn: 3600 });
  ws.send(`${JSON.stringify({ id: 1, connect: { token } })}\n${JSON.stringify({ id: 2, subscribe: { channel, delta: 'fossil' } })}`);
  const messages = (): Array<Record<string, unknown>> => frames.flatMap((f) => f.split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);
  await waitFor(() => messages().some((m) => m['id'] === 2), { what: 'subscribed' });
  const apis = publishers.map((n) => new CentClient({ url: n.apiUrl, apiKey: API_KEY }));
  const sent = deltaPayloads(60);
  const byOffset = new Map<number, unknown>();
  for (let i = 0; i < sent.length; i += parallel) {
    await Promise.all(
      sent.slice(i, i + parallel).map(async (data, j) => {
        const r = (await publishWithDelta(apis[(i + j) % apis.length]!, { channel, data, delta: true })) as { offset?: number };
        byOffset.set(Number(r.offset), data);
      }),
    );
  }
  const pubs = (): Array<{ offset: number; delta?: boolean; data: string }> =>
    messages().flatMap((m) => {
      const push = m['push'] as { pub?: { offset: number; delta?: boolean; data: string } } | undefined;
      return push?.pub !== undefined ? [push.pub] : [];
    });
  await waitFor(() => pubs().length === sent.length, { what: `${sent.length} publications` });
  const enc = new TextEncoder();
  let base: Uint8Array | undefined;
  let deltas = 0;
  for (const [i, p] of pubs().entries()) {
    assert.equal(p.offset, i + 1, 'offset order');
    const bytes: Uint8Array = p.delta === true ? new Uint8Array(applyDelta(base!, enc.encode(p.data))) : enc.encode(p.data);
    if (p.delta === true) deltas++;
    assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes)), byOffset.get(p.offset), `publication at offset ${p.offset}`);
    base = bytes;
  }
  // Fewer than in order: a burst lands in any order, so neighbours in the stream differ more than in `sent`.
  assert.ok(deltas >= sent.length / 3, `deltas: ${deltas} of ${sent.length}`);
  ws.close();
}
