// NATS-specific cross-node scenarios (at most once, no offsets); the others come from test/redis/scenarios.ts.
import assert from 'node:assert/strict';
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, collect, type ClientPool } from '../harness/clients.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { uniq, type ServerNode } from '../redis/scenarios.js';

/** A publication through each node's API reaches subscribers on every node once, without offsets. */
export async function natsCrossNodePublications(pool: ClientPool, nodes: readonly ServerNode[]): Promise<void> {
  const ch = uniq('xx:pub');
  const subs: { client: { disconnect(): void }; pubs: PublicationContext[] }[] = [];
  for (const [i, n] of nodes.entries()) {
    const { client } = pool.json(n.url, { token: await connToken({ sub: `pub-u${i}`, expIn: 3600 }) });
    const sub = client.newSubscription(ch);
    const pubs = collect<PublicationContext>(sub, 'publication');
    const subscribed = collect<SubscribedContext>(sub, 'subscribed');
    sub.subscribe();
    client.connect();
    await waitFor(() => subscribed.length === 1, { what: `subscribed on ${n.name}` });
    subs.push({ client, pubs });
  }
  for (const n of nodes) {
    const r = await new CentClient({ url: n.apiUrl, apiKey: API_KEY }).publish({ channel: ch, data: { via: n.name } });
    assert.equal(r.offset, undefined, 'no stream position without history');
  }
  for (const [i, s] of subs.entries()) {
    await waitFor(() => s.pubs.length === nodes.length, { what: `all publications on ${nodes[i]!.name}`, timeoutMs: 5000 });
    // Each publication exactly once. Their order across *different* publishing nodes is not defined on NATS: a
    // publish is acknowledged once the node's NATS client has buffered it (Centrifugo's broker does the same),
    // so node B's message may still be in B's write buffer when node C's, published after B's reply, goes out.
    assert.deepEqual(
      s.pubs.map((p) => (p.data as { via: string }).via).sort(),
      nodes.map((n) => n.name).sort(),
    );
  }
  for (const s of subs) s.client.disconnect();
}
