// The node message suite (run by node-messages*.test.ts, one engine set per file so each stays well inside the
// per-file timeout). centrifugo_node_messages_sent_count / _received_count mean what they mean in Centrifugo
// (docs/metrics.md): one
// `sent` per publication, join or leave the node hands to the broker, one `received` per one the broker hands to
// the node, whatever the number of subscribers. The same traffic runs on a single memory node and on two nodes
// sharing a real redis-server, and on two nodes sharing a real nats-server (PUB/SUB over NATS, presence in
// Redis): 10 subscribers of one channel (6 on node A, 4 on node B), 5 API publishes, one publish repeated with its
// idempotency key (NATS has no idempotency: both are delivered), one publish to a channel nobody is subscribed to,
// and a client that subscribes and unsubscribes (a join and a leave). Gyre's counts (labels included) are checked
// against exact numbers, and, when the Centrifugo 6.9.1 binary is installed, against Centrifugo's counts for the
// same traffic; and on 2 worker processes (memory engine), whose summed counts must be what 2 nodes count for the
// same placement of the clients. Fan-out to the subscribers is gyre_node_deliveries_total.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi, ClientPool } from '../harness/clients.js';
import { findCentrifugo, startCentrifugo } from '../harness/centrifugo.js';
import { mergeConfig, startGyre } from '../harness/gyre.js';
import { scrape, total, type Scrape } from '../harness/prom-text.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';
import { natsNodeConfig } from '../nats/nodes.js';
import { scenarioNamespaces, subscribedClient, type ServerNode } from '../redis/scenarios.js';

// `xx`: presence, join_leave pushed to every subscriber, history.
const CONFIG = mergeConfig(baseConfig(), { prometheus: { enabled: true }, channel: { namespaces: scenarioNamespaces() } });

interface Server extends ServerNode {
  baseUrl: string;
  stop(): Promise<unknown>;
}

type Started = Omit<Server, 'name'>;

const TYPES = ['publication', 'join', 'leave'];
const FAMILIES: Record<string, string> = {
  centrifugo_node_messages_sent_count: 'sent',
  centrifugo_node_messages_received_count: 'received',
  gyre_node_deliveries_total: 'delivered',
};

/** `<sent|received|delivered> <type> ns=<channel_namespace>` → value, for the publication/join/leave series. */
function messageSeries(s: Scrape, withNamespace: boolean): Map<string, number> {
  const out = new Map<string, number>();
  for (const x of s.samples) {
    const family = FAMILIES[x.name];
    const type = x.labels['type'] ?? '';
    if (family === undefined || !TYPES.includes(type)) continue;
    const key = withNamespace ? `${family} ${type} ns=${x.labels['channel_namespace'] ?? '-'}` : `${family} ${type}`;
    out.set(key, (out.get(key) ?? 0) + x.value);
  }
  return out;
}

/** What the traffic added on one node: the non-zero deltas, sorted by key. */
function delta(before: Scrape, after: Scrape, withNamespace: boolean): Record<string, number> {
  const b = messageSeries(before, withNamespace);
  const out: Record<string, number> = {};
  for (const [k, v] of [...messageSeries(after, withNamespace)].sort(([x], [y]) => x.localeCompare(y))) {
    const d = v - (b.get(k) ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Only Centrifugo's message types: client commands and pushes are not node messages (fresh series at 0 apart). */
function foreignTypes(s: Scrape): string[] {
  const known: Record<string, string[]> = {
    centrifugo_node_messages_sent_count: ['publication', 'join', 'leave', 'control', 'map_publication', 'map_removal'],
    centrifugo_node_messages_received_count: ['publication', 'join', 'leave', 'control'],
  };
  return s.samples.filter((x) => known[x.name] !== undefined && !known[x.name]!.includes(x.labels['type'] ?? '')).map((x) => `${x.name} ${x.labels['type'] ?? ''}`);
}

interface TrafficOptions {
  /** The broker suppresses a repeated idempotency key (not NATS). */
  idempotent: boolean;
  /** Node index of subscriber i (0-9) and of the visitor (10); default 6 on A, 4 and the visitor on B. */
  placement?: readonly number[];
  /** Called once each client subscribed (the workers run asks which worker took it). */
  placed?: (user: string) => Promise<void>;
}

const DEFAULT_PLACEMENT = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1];

/**
 * The traffic. `nodes` is [A] or [A, B]; the subscribers connect one after the other so that every join reached
 * the nodes subscribed at that time before the next one subscribes (all on A when alone). Returns each node's
 * scrapes from before and after.
 */
async function traffic(nodes: readonly Server[], tag: string, opts: TrafficOptions): Promise<{ before: Scrape; after: Scrape }[]> {
  const placement = opts.placement ?? DEFAULT_PLACEMENT;
  const at = (i: number): Server => nodes[placement[i]!] ?? nodes[0]!;
  const a = nodes[0]!;
  const channel = `xx:${tag}`;
  const pool = new ClientPool();
  try {
    const before = await Promise.all(nodes.map((n) => scrape(`${n.baseUrl}/metrics`)));
    const subs: Awaited<ReturnType<typeof subscribedClient>>[] = [];
    for (let i = 0; i < 10; i++) {
      subs.push(await subscribedClient(pool, at(i), `u${i}`, channel));
      await opts.placed?.(`u${i}`);
      // Each subscriber's own join is the last one it sees: once it has it, every node got it.
      await waitFor(() => subs.every((s, j) => s.joins.length === i - j + 1), { what: `join ${i} everywhere` });
    }
    for (let i = 0; i < 5; i++) {
      const r = await callApi(a.apiUrl, 'publish', { channel, data: { n: i } });
      assert.equal(r.status, 200, r.text);
    }
    // The same idempotency key twice: the second is suppressed by the broker (handed to it, never delivered).
    for (let i = 0; i < 2; i++) {
      const r = await callApi(a.apiUrl, 'publish', { channel, data: { n: 5 }, idempotency_key: `k-${tag}` });
      assert.equal(r.status, 200, r.text);
    }
    const r = await callApi(a.apiUrl, 'publish', { channel: `xx:${tag}-nobody`, data: { n: 6 } });
    assert.equal(r.status, 200, r.text);
    const delivered = opts.idempotent ? 6 : 7;
    await waitFor(() => subs.every((s) => s.pubs.length === delivered), { what: 'every publication at every subscriber' });
    const visitor = await subscribedClient(pool, at(10), 'visitor', channel);
    await opts.placed?.('visitor');
    visitor.sub.unsubscribe();
    await waitFor(() => subs.every((s) => s.joins.length === 10 - subs.indexOf(s) + 1 && s.leaves.length === 1), {
      what: "the visitor's join and leave at every subscriber",
    });
    const after = await Promise.all(nodes.map((n) => scrape(`${n.baseUrl}/metrics`)));
    return nodes.map((_, i) => ({ before: before[i]!, after: after[i]! }));
  } finally {
    pool.closeAll();
  }
}

const redisUp = await redisAvailable();
const natsUp = redisUp && (await natsAvailable());
export type EngineName = 'memory' | 'redis' | 'nats';

/** Gyre's counts for the traffic: memory (one node), redis and nats (node A, node B). */
const EXPECTED: Record<EngineName, Record<string, number>[]> = {
  memory: [
    {
      // 5 publishes + 2 with one idempotency key + 1 to a channel without subscribers handed to the broker; the
      // suppressed one never comes back. 10 joins and the visitor's join and leave.
      'sent publication ns=': 8,
      'received publication ns=': 7,
      'sent join ns=': 11,
      'received join ns=': 11,
      'sent leave ns=': 1,
      'received leave ns=': 1,
      // 6 publications × 10 subscribers; subscriber i sees the joins from its own on (10 - i) and the visitor's,
      // the visitor its own; the leave reaches the 10.
      'delivered publication ns=xx': 60,
      'delivered join ns=xx': 66,
      'delivered leave ns=xx': 10,
    },
  ],
  redis: [
    {
      'sent publication ns=': 8,
      'received publication ns=': 6,
      'sent join ns=': 6,
      'received join ns=': 11,
      'received leave ns=': 1,
      'delivered publication ns=xx': 36,
      'delivered join ns=xx': 51,
      'delivered leave ns=xx': 6,
    },
    {
      'received publication ns=': 6,
      // Its 4 subscribers' joins and the visitor's; node A's came before node B subscribed to the channel.
      'sent join ns=': 5,
      'received join ns=': 5,
      'sent leave ns=': 1,
      'received leave ns=': 1,
      'delivered publication ns=xx': 24,
      'delivered join ns=xx': 15,
      'delivered leave ns=xx': 4,
    },
  ],
  // As on Redis, but both publishes with the repeated key are delivered (NATS has no idempotency), and only
  // subscribed nodes receive: the publish to the channel nobody is subscribed to is sent, never received.
  nats: [
    {
      'sent publication ns=': 8,
      'received publication ns=': 7,
      'sent join ns=': 6,
      'received join ns=': 11,
      'received leave ns=': 1,
      'delivered publication ns=xx': 42,
      'delivered join ns=xx': 51,
      'delivered leave ns=xx': 6,
    },
    {
      'received publication ns=': 7,
      'sent join ns=': 5,
      'received join ns=': 5,
      'sent leave ns=': 1,
      'received leave ns=': 1,
      'delivered publication ns=xx': 28,
      'delivered join ns=xx': 15,
      'delivered leave ns=xx': 4,
    },
  ],
};

/** The cases for `engines` (Gyre, then real Centrifugo 6.9.1), and the 2-worker case when `workers`. */
export function nodeMessagesSuite(engines: readonly EngineName[], workers: boolean): void {
  describe(`node messages sent/received count what Centrifugo counts: ${[...engines, ...(workers ? ['2 workers'] : [])].join(', ')}`, () => {
    let redis: RedisServer | undefined;
    let nats: NatsServer | undefined;
    const gyre = new Map<string, { before: Scrape; after: Scrape }[]>();

    function config(engine: EngineName, prefix: string, name: string): Record<string, unknown> {
      if (engine === 'memory') return CONFIG;
      // NATS: the shared NATS config (namespaces without history: a NATS broker has none), presence in Redis.
      if (engine === 'nats') return mergeConfig(natsNodeConfig(nats!.url, redis!.address, prefix, name), { prometheus: { enabled: true } });
      return mergeConfig(CONFIG, { node: { name }, engine: { type: 'redis', redis: { address: [redis!.address], prefix } } });
    }

    const skipReason = (engine: EngineName): string | undefined =>
      engine === 'redis' && !redisUp ? 'redis-server not installed' : engine === 'nats' && !natsUp ? 'nats-server or redis-server not installed' : undefined;

    async function run(engine: EngineName, start: (config: Record<string, unknown>) => Promise<Started>, tag: string, placement?: readonly number[]) {
      const names = engine === 'memory' ? ['a'] : ['a', 'b'];
      const nodes: Server[] = await Promise.all(names.map(async (name) => ({ ...(await start(config(engine, tag, name))), name })));
      try {
        return await traffic(nodes, tag, { idempotent: engine !== 'nats', ...(placement === undefined ? {} : { placement }) });
      } finally {
        await Promise.all(nodes.map((n) => n.stop()));
      }
    }

    before(async () => {
      if (redisUp && (workers || engines.some((e) => e !== 'memory'))) redis = await startRedis();
      if (natsUp && engines.includes('nats')) nats = await startNats();
    });
    after(async () => {
      await Promise.all([redis?.stop(), nats?.stop()]);
    });

    for (const engine of engines) {
      it(`Gyre on the ${engine} engine: one per message handed to or received from the broker`, async (t) => {
        const skip = skipReason(engine);
        if (skip !== undefined) return t.skip(skip);
        const runs = await run(engine, (c) => startGyre(c), `g${engine[0]!}`);
        gyre.set(engine, runs);
        assert.deepEqual(
          runs.map((r) => delta(r.before, r.after, true)),
          EXPECTED[engine],
        );
        for (const r of runs) assert.deepEqual(foreignTypes(r.after), []);
      });
    }

    for (const engine of engines) {
      it(`real Centrifugo 6.9.1 on the ${engine} engine counts the same`, async (t) => {
        const binary = findCentrifugo();
        if (binary === undefined) return t.skip('centrifugo binary not installed (scripts/install-centrifugo.sh)');
        const skip = skipReason(engine);
        if (skip !== undefined) return t.skip(skip);
        const ours = gyre.get(engine);
        if (ours === undefined) return t.skip(`the Gyre ${engine} run did not complete`);
        const theirs = await run(engine, (c) => startCentrifugo(c, { binary }), `c${engine[0]!}`);
        // Label values too: both leave channel_namespace "" on the node message counts.
        const messages = (r: { before: Scrape; after: Scrape }): Record<string, number> =>
          Object.fromEntries(Object.entries(delta(r.before, r.after, true)).filter(([k]) => !k.startsWith('delivered')));
        assert.deepEqual(ours.map(messages), theirs.map(messages));
        // centrifugo_node_pub_sub_lag_seconds: one observation per publication fanned out here (Gyre labels it
        // with the namespace, Centrifugo with ""; the count over the label).
        const lags = (r: { before: Scrape; after: Scrape }): number =>
          total(r.after, 'centrifugo_node_pub_sub_lag_seconds_count') - total(r.before, 'centrifugo_node_pub_sub_lag_seconds_count');
        t.diagnostic(`lag observations per node: Gyre ${ours.map(lags).join(', ')}, Centrifugo ${theirs.map(lags).join(', ')}`);
        assert.ok(ours.every((r) => lags(r) > 0), 'every node fanned publications out');
        assert.deepEqual(ours.map(lags), theirs.map(lags), 'publish-to-fan-out lag observations per node');
      });
    }

    // Each worker is a node for these counts and /metrics adds them up (docs/metrics.md). The kernel decides which
    // worker takes a connection, so `info` (each node's client count) tells which worker took each client, and two
    // Centrifugo nodes on Redis get the same placement: their summed counts must be Gyre's.
    if (workers) it('Gyre with 2 worker processes (memory engine) counts what 2 nodes count for the same placement, summed', async (t) => {
      const workerConfig = mergeConfig(CONFIG, { log: { level: 'info' } });
      const g = await startGyre(workerConfig, { args: ['--workers', '2'], env: { GYRE_HTTP_SERVER_WARMUP_CONNECTIONS: '20' }, startTimeoutMs: 90_000 });
      const workerOf = new Map<string, string>();
      let runs: { before: Scrape; after: Scrape }[];
      try {
        await waitFor(() => g.stdout().includes('2 workers serving'), { what: 'both workers serving', timeoutMs: 90_000 });
        const held = new Map<string, number>();
        const placed = async (user: string): Promise<void> => {
          // The worker answering sees its own count at once and the other's from its last heartbeat (3 s): once the
          // counts add up to every client connected, both are current, and the one that grew took this client.
          const nodes = await waitFor(
            async () => {
              const r = await callApi(g.apiUrl, 'info', {});
              const list = (r.body as { result?: { nodes?: { uid: string; num_clients: number }[] } }).result?.nodes ?? [];
              const sum = list.reduce((a, n) => a + n.num_clients, 0);
              return list.length === 2 && sum === workerOf.size + 1 ? list : false;
            },
            { what: `the worker holding ${user}`, timeoutMs: 10_000, intervalMs: 200 },
          );
          const grew = nodes.find((n) => n.num_clients > (held.get(n.uid) ?? 0))!;
          for (const n of nodes) held.set(n.uid, n.num_clients);
          workerOf.set(user, grew.uid);
        };
        runs = await traffic([{ ...g, name: 'workers' }], 'gw', { idempotent: true, placement: Array<number>(11).fill(0), placed });
      } finally {
        await g.stop('SIGTERM', 15_000);
      }
      const uids = [...new Set(workerOf.values())];
      const users = [...Array.from({ length: 10 }, (_, i) => `u${i}`), 'visitor'];
      const placement = users.map((u) => uids.indexOf(workerOf.get(u)!));
      const ours = delta(runs[0]!.before, runs[0]!.after, true);
      t.diagnostic(`clients per worker, in connect order (visitor last): ${placement.join('')}`);
      // Whatever the placement: what was handed to the broker, and what reached the clients, as on one node.
      const onWorkersWith = (upTo: number): number => new Set(placement.slice(0, upTo + 1)).size;
      let receivedJoins = 0;
      for (let i = 0; i <= 10; i++) receivedJoins += onWorkersWith(i);
      const expected: Record<string, number> = {
        'sent publication ns=': 8,
        'received publication ns=': 6 * onWorkersWith(9),
        'sent join ns=': 11,
        'received join ns=': receivedJoins,
        'sent leave ns=': 1,
        'delivered publication ns=xx': 60,
        'delivered join ns=xx': 66,
        'delivered leave ns=xx': 10,
      };
      // The visitor's leave reaches every worker still subscribed; its own worker unsubscribes right after it when the
      // visitor was its only client, so that one count is left to the comparison with Centrifugo.
      const visitorAlone = !placement.slice(0, 10).includes(placement[10]!);
      if (!visitorAlone) expected['received leave ns='] = onWorkersWith(10);
      const checked = { ...ours };
      if (visitorAlone) delete checked['received leave ns='];
      assert.deepEqual(checked, expected, `placement ${placement.join('')}`);

      const binary = findCentrifugo();
      if (binary === undefined) return t.skip('centrifugo binary not installed (scripts/install-centrifugo.sh): compared with exact counts only');
      if (!redisUp) return t.skip('redis-server not installed: compared with exact counts only');
      const theirs = await run('redis', (c) => startCentrifugo(c, { binary }), 'cw', placement);
      const summed: Record<string, number> = {};
      for (const r of theirs) {
        for (const [k, v] of Object.entries(delta(r.before, r.after, true))) if (!k.startsWith('delivered')) summed[k] = (summed[k] ?? 0) + v;
      }
      const messages = Object.fromEntries(Object.entries(ours).filter(([k]) => !k.startsWith('delivered')));
      assert.deepEqual(messages, Object.fromEntries(Object.entries(summed).sort(([x], [y]) => x.localeCompare(y))), `placement ${placement.join('')}`);
    });
  });
}
