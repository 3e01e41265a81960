// Fault test: 200 subscribers on 2 Gyre nodes, 50 publications/s through the API, and the Redis server is killed
// (SIGKILL) and restarted on the same port in the middle. Redis runs with appendfsync always, so what it
// acknowledged survives the crash. What must hold afterwards: ./fault-load.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientPool } from '../harness/clients.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { sleep } from '../harness/wait.js';
import { faultUnderLoad } from './fault-load.js';
import { startGyreNodes, type GyreNode } from './nodes.js';

const OUTAGE_MS = 1200;

describe('redis: kill and restart Redis under load', () => {
  let redis: RedisServer;
  let nodes: GyreNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    nodes = await startGyreNodes({ address: [redis.address], prefix: 'ft', io_timeout: '1s' }, ['gyre-f1', 'gyre-f2']);
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await redis?.stop();
  });

  it('every client ends with every acknowledged publication exactly once, in order; refused ones got 100', async () => {
    let restarted = false;
    await faultUnderLoad(nodes, pool, async () => {
      await redis.kill();
      await sleep(OUTAGE_MS);
      await redis.restart();
      restarted = true;
    });
    assert.ok(restarted);
  });
});
