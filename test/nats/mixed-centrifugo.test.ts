// One Gyre node and one real Centrifugo v6.9.1 node on one nats-server (broker.type nats, same prefix) and one
// Redis (presence): publications, join/leave, presence, API commands and info cross in both directions, which
// proves the subjects and the Push encoding match. Skipped (with the reason) when the Centrifugo binary is absent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { parseNatsPush, type NatsPush } from '../../src/engines/nats/wire.js';
import { Reader } from '../../src/engines/protobuf-wire.js';
import { findCentrifugo } from '../harness/centrifugo.js';
import { callApi } from '../harness/clients.js';
import { mixedPair } from '../harness/mixed-pair.js';
import { waitFor } from '../harness/wait.js';
import { natsAvailable, startNats } from '../harness/nats.js';
import { redisAvailable, startRedis } from '../harness/redis.js';
import { deltaAcrossNodes } from '../redis/delta-scenario.js';
import { apiReachesOtherNode, infoLists, presenceAggregates, uniq } from '../redis/scenarios.js';
import { natsNodeConfig } from './nodes.js';
import { natsCrossNodePublications } from './scenarios.js';

/** Publication.delta (8) of the Push{pub (4)} on a client subject. */
function publicationDeltaFlag(buf: Uint8Array): boolean {
  const push = new Reader(buf, 0, buf.length);
  while (push.pos < push.end) {
    const key = push.varint();
    if (key !== 0x22) {
      push.skip(key & 7);
      continue;
    }
    const [start, end] = push.span();
    const pub = new Reader(buf, start, end);
    while (pub.pos < pub.end) {
      const k = pub.varint();
      if (k === 0x40) return pub.varint() === 1;
      pub.skip(k & 7);
    }
  }
  return false;
}

const binary = findCentrifugo();
const servers = (await natsAvailable()) && (await redisAvailable());
const skip =
  binary === undefined
    ? 'centrifugo binary not installed (scripts/install-centrifugo.sh)'
    : servers
      ? false
      : 'nats-server or redis-server is not installed';

describe('nats: a Gyre node and a Centrifugo node on one nats-server, presence_manager redis', { skip }, () => {
  const pair = mixedPair({
    start: async () => {
      const [nats, redis] = await Promise.all([startNats(), startRedis()]);
      return { nats, redis, stop: () => Promise.all([nats.stop(), redis.stop()]) };
    },
    config: (b, name) => natsNodeConfig(b.nats.url, b.redis.address, 'mixednats', name, 'presence_manager'),
    names: ['gyre-1', 'centrifugo-1'],
  });
  const pool = pair.pool;

  it('publications through either API reach subscribers on both', async () => {
    await natsCrossNodePublications(pool, [pair.gyre, pair.cf]);
    await natsCrossNodePublications(pool, [pair.cf, pair.gyre]);
  });
  it("a publication through Centrifugo's API is on NATS as the Push Gyre's parser reads", async () => {
    const nc = await connect({ servers: pair.backends.nats.url });
    try {
      const seen: NatsPush[] = [];
      const others: string[] = [];
      const ch = uniq('srv:wire');
      nc.subscribe('mixednats.client.>', {
        callback: (err, msg) => {
          if (err !== null) return;
          // Only this test's channel: a late push of another test's channel must not hide or fake this one.
          const push = parseNatsPush(msg.data);
          if (push.channel === ch) seen.push(push);
          else others.push(`${push.kind} ${push.channel}`);
        },
      });
      await nc.flush();
      const r = await callApi(pair.cf.apiUrl, 'publish', { channel: ch, data: { w: 1 }, tags: { t: 'v' } });
      assert.equal(r.status, 200, r.text);
      await waitFor(() => seen.length >= 1, { what: `Push on NATS for ${ch}` }).catch((e: unknown) => {
        throw new Error(`${String(e)}; pushes of other channels seen: [${others.join(', ')}]`);
      });
      await nc.flush();
      assert.equal(seen.length, 1, 'one Push per publication');
      const p = seen[0]!;
      assert.equal(p.kind, 'publication');
      if (p.kind !== 'publication') return;
      assert.equal(p.channel, ch);
      assert.equal(new TextDecoder().decode(p.pub.data), '{"w":1}');
      assert.deepEqual(p.pub.tags, { t: 'v' });
      assert.ok(p.timeMs > 0, 'Centrifugo sets Publication.time');
    } finally {
      await nc.close();
    }
  });
  it('join/leave cross; presence and presence_stats agree on both', async () => {
    await presenceAggregates(pool, [pair.gyre, pair.cf]);
    await presenceAggregates(pool, [pair.cf, pair.gyre]);
  });
  it('API commands through either node reach a user on the other', async () => {
    await apiReachesOtherNode(pool, pair.gyre, pair.cf);
    await apiReachesOtherNode(pool, pair.cf, pair.gyre);
  });
  it('info lists both nodes through either API', async () => {
    await infoLists([pair.gyre, pair.cf], ['gyre-1', 'centrifugo-1']);
  });
  it('delta: publications with delta through either API reach fossil subscribers on both, in full', async () => {
    await deltaAcrossNodes(pool, { subscribers: [pair.gyre, pair.cf], publishers: [pair.gyre, pair.cf], ascii: true, deltas: false });
  });
  it('a publication with delta is on NATS with Publication.delta set, from Gyre as from Centrifugo', async () => {
    const nc = await connect({ servers: pair.backends.nats.url });
    try {
      const seen: boolean[] = [];
      nc.subscribe('mixednats.client.>', {
        callback: (err, msg) => {
          if (err === null) seen.push(publicationDeltaFlag(msg.data));
        },
      });
      await nc.flush();
      const ch = uniq('dl:wire');
      for (const [i, node] of [pair.cf, pair.gyre, pair.cf, pair.gyre].entries()) {
        const r = await callApi(node.apiUrl, 'publish', { channel: ch, data: { i }, delta: i < 2 });
        assert.equal(r.status, 200, r.text);
        await waitFor(() => seen.length === i + 1, { what: `Push ${i + 1} on NATS` });
      }
      assert.deepEqual(seen, [true, true, false, false], 'delta flag: Centrifugo, Gyre with delta; then both without');
    } finally {
      await nc.close();
    }
  });
});
