// The NATS broker under the memory engine (no Redis at all): presence is per node, as docs/nats.md and Centrifugo
// say, while publications, joins and leaves and the node registry cross over NATS. Two Gyre processes on one real
// nats-server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { baseConfig } from '../compat/base-config.js';
import { callApi, ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre } from '../harness/gyre.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { waitFor } from '../harness/wait.js';
import { infoLists, subscribedClient, uniq, type ServerNode } from '../redis/scenarios.js';
import { natsNamespaces } from './nodes.js';
import { natsCrossNodePublications } from './scenarios.js';

const ok = await natsAvailable();
const NAMES = ['gyre-m1', 'gyre-m2'];

describe('nats: broker over NATS, presence in memory (per node)', { skip: ok ? false : 'nats-server is not installed' }, () => {
  let nats: NatsServer | undefined;
  const procs: Awaited<ReturnType<typeof startGyre>>[] = [];
  let nodes: ServerNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    nats = await startNats();
    for (const name of NAMES) {
      procs.push(
        await startGyre(
          mergeConfig(baseConfig(), {
            broker: { enabled: true, type: 'nats', nats: { url: nats.url, prefix: 'natsmem' } },
            node: { name },
            channel: { namespaces: natsNamespaces() },
          }),
        ),
      );
    }
    nodes = procs.map((p, i) => ({ name: NAMES[i]!, url: p.url, apiUrl: p.apiUrl }));
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(procs.map((p) => p.stop()));
    await nats?.stop();
  });

  it('publications and the node registry cross over NATS', async () => {
    await natsCrossNodePublications(pool, nodes);
    await infoLists(nodes, NAMES);
  });

  it("each node's presence lists its own subscribers only; joins and leaves still cross", async () => {
    const ch = uniq('xx:mp');
    const a = await subscribedClient(pool, nodes[0]!, 'mp-a', ch);
    const b = await subscribedClient(pool, nodes[1]!, 'mp-b', ch);
    await waitFor(() => a.joins.includes('mp-b'), { what: "node 2's join at node 1's subscriber" });
    for (const [i, n] of nodes.entries()) {
      const p = await callApi(n.apiUrl, 'presence', { channel: ch });
      const users = Object.values((p.body as { result: { presence: Record<string, { user: string }> } }).result.presence).map((c) => c.user);
      assert.deepEqual(users, [i === 0 ? 'mp-a' : 'mp-b'], `presence via ${n.name}`);
      const st = await callApi(n.apiUrl, 'presence_stats', { channel: ch });
      assert.deepEqual((st.body as { result: unknown }).result, { num_clients: 1, num_users: 1 });
    }
    b.sub.unsubscribe();
    await waitFor(() => a.leaves.includes('mp-b'), { what: "node 2's leave at node 1's subscriber" });
    a.client.disconnect();
    b.client.disconnect();
  });
});
