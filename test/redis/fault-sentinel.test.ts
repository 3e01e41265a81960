// Fault test through Redis Sentinel: 200 subscribers on 2 Gyre nodes, 50 publications/s through the API, and
// the master is killed in the middle; Sentinel promotes the replica and both nodes follow it. What must hold
// afterwards: ./fault-load.ts. The master's writes are paused and the replica caught up before the kill, because
// Redis replication is asynchronous: a crash may otherwise lose the master's last acknowledged writes in Redis
// itself, which no client of Redis can prevent (Centrifugo documents the same).
import { after, before, describe, it } from 'node:test';
import { ClientPool } from '../harness/clients.js';
import { startSentinelSet, type SentinelSet } from '../harness/redis.js';
import { faultUnderLoad } from './fault-load.js';
import { startGyreNodes, type GyreNode } from './nodes.js';

describe('redis: Sentinel failover under load', () => {
  let set: SentinelSet;
  let nodes: GyreNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    set = await startSentinelSet();
    nodes = await startGyreNodes(
      { sentinel_address: [set.sentinelAddress], sentinel_master_name: set.masterName, prefix: 'fs', io_timeout: '1s' },
      ['gyre-s1', 'gyre-s2'],
    );
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await set?.stop();
  });

  it('every client ends with every acknowledged publication exactly once, in order; refused ones got 100', async () => {
    await faultUnderLoad(nodes, pool, () => set.failover({ replicatedFirst: true }));
  });
});
