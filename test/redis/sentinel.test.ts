// The 3-node suite through Redis Sentinel (master + replica + Sentinel), then across a failover: the master is
// killed, Sentinel promotes the replica, every node follows it, and publications, presence and a subscriber
// that was live before the failover carry on; then history and recovery, the API across nodes and info.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { PublicationContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, collect } from '../harness/clients.js';
import { startSentinelSet } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { runMultiNodeSuite } from './multi-node-suite.js';
import { apiReachesOtherNode, crossNodePublications, historyAndRecovery, infoLists, presenceAggregates, uniq } from './scenarios.js';

async function healthy(baseUrl: string): Promise<boolean> {
  try {
    const r = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

runMultiNodeSuite(
  'Redis Sentinel',
  async () => {
    const s = await startSentinelSet();
    return {
      redis: { sentinel_address: [s.sentinelAddress], sentinel_master_name: s.masterName, prefix: 'se' },
      stop: () => s.stop(),
      failover: () => s.failover(),
    };
  },
  {
    extra: ({ nodes, topology, pool }) => {
      it('survives a Sentinel failover: nodes follow the new master, a live subscriber misses nothing', async () => {
        const [a, b] = nodes();
        const ch = uniq('xx:fo');
        const { client } = pool.json(a!.url, { token: await connToken({ sub: 'fo-u', expIn: 3600 }) });
        const sub = client.newSubscription(ch);
        const pubs = collect<PublicationContext>(sub, 'publication');
        const subscribed = collect<unknown>(sub, 'subscribed');
        sub.subscribe();
        client.connect();
        await waitFor(() => subscribed.length === 1, { what: 'subscribed before failover' });
        const centB = new CentClient({ url: b!.apiUrl, apiKey: API_KEY });
        await centB.publish({ channel: ch, data: { n: 1 } });
        await waitFor(() => pubs.length === 1, { what: 'publication before failover' });
        const t = topology() as unknown as { failover(): Promise<void> };
        await t.failover();
        await waitFor(async () => (await Promise.all(nodes().map((n) => healthy(n.proc.baseUrl)))).every(Boolean), {
          what: 'every node healthy on the new master',
          timeoutMs: 20_000,
          intervalMs: 200,
        });
        await waitFor(
          async () => {
            try {
              await centB.publish({ channel: ch, data: { n: 2 } });
              return true;
            } catch {
              return false;
            }
          },
          { what: 'a publish accepted after failover', timeoutMs: 10_000, intervalMs: 200 },
        );
        await waitFor(() => pubs.some((p) => (p.data as { n: number }).n === 2), { what: 'publication after failover', timeoutMs: 10_000 });
        const ns = pubs.map((p) => (p.data as { n: number }).n);
        assert.deepEqual([...new Set(ns)], ns, 'no duplicates');
        assert.equal(ns[ns.length - 1], 2);
        client.disconnect();
        await crossNodePublications(pool, nodes());
        await presenceAggregates(pool, nodes());
        // The rest of the suite on the new master too: history and recovery, the API across nodes, info.
        await historyAndRecovery(pool, nodes()[1]!, nodes()[2]!);
        await apiReachesOtherNode(pool, nodes()[2]!, nodes()[0]!);
        await infoLists(nodes(), ['gyre-a', 'gyre-b', 'gyre-c']);
      });
    },
  },
);
