// Three Gyre nodes on one real nats-server (PUB/SUB and control) with presence in one Redis: publications,
// join/leave and presence, API commands and the node registry cross; a NATS restart is survived.
import { after, before, describe, it } from 'node:test';
import { ClientPool } from '../harness/clients.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { waitFor } from '../harness/wait.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { deltaAcrossNodes } from '../redis/delta-scenario.js';
import { apiReachesOtherNode, infoLists, presenceAggregates } from '../redis/scenarios.js';
import { startGyreNatsNodes, type GyreNatsNode } from './nodes.js';
import { natsCrossNodePublications } from './scenarios.js';

const ok = (await natsAvailable()) && (await redisAvailable());
const NAMES = ['gyre-a', 'gyre-b', 'gyre-c'];

describe('nats: 3 Gyre nodes on one nats-server, presence in Redis', { skip: ok ? false : 'nats-server or redis-server is not installed' }, () => {
  let nats: NatsServer | undefined;
  let redis: RedisServer | undefined;
  let nodes: GyreNatsNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    nodes = await startGyreNatsNodes(nats.url, redis.address, 'gyrenats', NAMES);
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it('a publication through node C reaches subscribers on A and B (and each node reaches the others)', async () => {
    await natsCrossNodePublications(pool, [nodes[0]!, nodes[1]!, nodes[2]!]);
    await natsCrossNodePublications(pool, [nodes[2]!, nodes[0]!, nodes[1]!]);
  });
  it('presence and presence_stats aggregate through Redis; join and leave cross over NATS', async () => {
    await presenceAggregates(pool, nodes);
  });
  it('API subscribe, unsubscribe, refresh and disconnect reach a user on another node', async () => {
    await apiReachesOtherNode(pool, nodes[0]!, nodes[2]!);
  });
  it('delta: fossil subscribers on 2 nodes get 100 publications with delta exact, each in full (NATS carries no base)', async () => {
    await deltaAcrossNodes(pool, { subscribers: [nodes[0]!, nodes[1]!], publishers: [nodes[1]!, nodes[2]!], ascii: false, deltas: false });
  });
  it('info lists 3 nodes', async () => {
    await infoLists(nodes, NAMES);
  });
  it('a NATS restart is survived: /health reports it, then publications cross again and info lists 3 nodes', async () => {
    const health = async (n: GyreNatsNode): Promise<number> => (await fetch(`${n.proc.baseUrl}/health`)).status;
    await nats!.kill();
    await waitFor(async () => (await health(nodes[0]!)) === 500, { what: '/health 500 while NATS is down', timeoutMs: 5000 });
    await nats!.restart();
    for (const n of nodes) await waitFor(async () => (await health(n)) === 200, { what: `${n.name} reconnected`, timeoutMs: 15_000 });
    await infoLists(nodes, NAMES, 15_000);
    await natsCrossNodePublications(pool, [nodes[1]!, nodes[2]!]);
  });
});
