// centrifugo_node_messages_sent_count / _received_count mean what they mean in Centrifugo (docs/metrics.md): one
// `sent` per publication, join or leave the node hands to the broker, one `received` per one the broker hands to
// the node, whatever the number of subscribers. The same traffic runs on a single memory node and on two nodes
// sharing a real redis-server, and on two nodes sharing a real nats-server (PUB/SUB over NATS, presence in
// Redis): 10 subscribers of one channel (6 on node A, 4 on node B), 5 API publishes, one publish repeated with its
// idempotency key (NATS has no idempotency: both are delivered), one publish to a channel nobody is subscribed to,
// and a client that subscribes and unsubscribes (a join and a leave). Gyre's counts (labels included) are checked
// against exact numbers, and, when the Centrifugo 6.9.1 binary is installed, against Centrifugo's counts for the
// same traffic. Fan-out to the subscribers is gyre_node_deliveries_total.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi, ClientPool } from '../harness/clients.js';
import { findCentrifugo, startCentrifugo } from '../harness/centrifugo.js';
import { mergeConfig, startGyre } from '../harness/gyre.js';
import { scrape, type Scrape } from '../harness/prom-text.js';
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

/**
 * The traffic. `nodes` is [A] or [A, B]; A gets 6 subscribers and B 4 (all 10 on A when alone), one after the
 * other so that every join reached the nodes subscribed at that time before the next node subscribes.
 * `idempotent`: the broker suppresses a repeated idempotency key (not NATS). Returns each node's scrapes from
 * before and after.
 */
async function traffic(nodes: readonly Server[], tag: string, idempotent: boolean): Promise<{ before: Scrape; after: Scrape }[]> {
  const a = nodes[0]!;
  const b = nodes[1] ?? a;
  const channel = `xx:${tag}`;
  const pool = new ClientPool();
  try {
    const before = await Promise.all(nodes.map((n) => scrape(`${n.baseUrl}/metrics`)));
    const subs: Awaited<ReturnType<typeof subscribedClient>>[] = [];
    for (let i = 0; i < 10; i++) {
      subs.push(await subscribedClient(pool, i < 6 ? a : b, `u${i}`, channel));
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
    const delivered = idempotent ? 6 : 7;
    await waitFor(() => subs.every((s) => s.pubs.length === delivered), { what: 'every publication at every subscriber' });
    const visitor = await subscribedClient(pool, b, 'visitor', channel);
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
const ENGINES = ['memory', 'redis', 'nats'] as const;
type EngineName = (typeof ENGINES)[number];

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

describe('node messages sent/received count what Centrifugo counts', () => {
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

  async function run(engine: EngineName, start: (config: Record<string, unknown>) => Promise<Started>, tag: string) {
    const names = engine === 'memory' ? ['a'] : ['a', 'b'];
    const nodes: Server[] = await Promise.all(names.map(async (name) => ({ ...(await start(config(engine, tag, name))), name })));
    try {
      return await traffic(nodes, tag, engine !== 'nats');
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  }

  before(async () => {
    if (redisUp) redis = await startRedis();
    if (natsUp) nats = await startNats();
  });
  after(async () => {
    await Promise.all([redis?.stop(), nats?.stop()]);
  });

  for (const engine of ENGINES) {
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

  for (const engine of ENGINES) {
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
    });
  }
});
