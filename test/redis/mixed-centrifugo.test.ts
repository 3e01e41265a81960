// One Gyre node and one real Centrifugo v6.9.1 node on one Redis form one cluster: publications, join/leave,
// presence, history and recovery, info and the server API cross in both directions. Skipped (with the reason)
// when the Centrifugo binary is not installed (scripts/install-centrifugo.sh).
import { after, before, describe, it } from 'node:test';
import { findCentrifugo, startCentrifugo, type CentrifugoProcess } from '../harness/centrifugo.js';
import { ClientPool } from '../harness/clients.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { redisClusterConfig, startGyreNodes, type GyreNode } from './nodes.js';
import {
  apiReachesOtherNode,
  crossNodePublications,
  historyAndRecovery,
  infoLists,
  presenceAggregates,
  type ServerNode,
} from './scenarios.js';

const binary = findCentrifugo();
const skip = binary === undefined ? 'centrifugo binary not installed (scripts/install-centrifugo.sh)' : false;

describe('redis: a Gyre node and a Centrifugo node in one cluster', { skip }, () => {
  let redis: RedisServer;
  let gyre: GyreNode[] = [];
  let cf: CentrifugoProcess | undefined;
  let cfNode: ServerNode;
  const pool = new ClientPool();
  before(async () => {
    redis = await startRedis();
    const engine = { address: [redis.address], prefix: 'mixed' };
    [gyre, cf] = await Promise.all([
      startGyreNodes(engine, ['gyre-1']),
      startCentrifugo(redisClusterConfig(engine, 'centrifugo-1'), binary === undefined ? {} : { binary }),
    ]);
    cfNode = { name: 'centrifugo-1', url: cf.url, apiUrl: cf.apiUrl };
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([...gyre.map((n) => n.proc.stop()), cf?.stop()]);
    await redis?.stop();
  });

  it('publications through either API reach subscribers on both, in one offset order', async () => {
    await crossNodePublications(pool, [gyre[0]!, cfNode]);
    await crossNodePublications(pool, [cfNode, gyre[0]!]);
  });
  it('join/leave cross; presence and presence_stats agree on both', async () => {
    await presenceAggregates(pool, [gyre[0]!, cfNode]);
    await presenceAggregates(pool, [cfNode, gyre[0]!]);
  });
  it('history is shared and a client recovers on the other server', async () => {
    await historyAndRecovery(pool, gyre[0]!, cfNode);
    await historyAndRecovery(pool, cfNode, gyre[0]!);
  });
  it('API subscribe, unsubscribe, refresh and disconnect cross in both directions', async () => {
    await apiReachesOtherNode(pool, cfNode, gyre[0]!);
    await apiReachesOtherNode(pool, gyre[0]!, cfNode);
  });
  it('info on both lists both nodes', async () => {
    await infoLists([gyre[0]!, cfNode], ['gyre-1', 'centrifugo-1']);
  });
});
