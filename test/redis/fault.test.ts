// Fault test: 200 subscribers on 2 Gyre nodes, 50 publications/s through the API, and the Redis server is killed
// (SIGKILL) and restarted on the same port in the middle. Redis runs with appendfsync always, so what it
// acknowledged survives the crash. Afterwards every client holds every acknowledged publication exactly once and
// in order (the nodes told them, after PUB/SUB came back, to recover from history); publishes refused while
// Redis was down got error 100 and no offset; /health reported the outage.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublicationContext } from 'centrifuge';
import { ClientPool, callApi, isRecord } from '../harness/clients.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { sleep, waitFor } from '../harness/wait.js';
import { startGyreNodes, type GyreNode } from './nodes.js';
import { uniq } from './scenarios.js';

const SUBSCRIBERS = 200;
const RATE_PER_S = 50;
const BEFORE_MS = 1500;
const OUTAGE_MS = 1200;
const AFTER_MS = 2500;

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
    const ch = uniq('xx:fault');
    const received: number[][] = [];
    const ready: boolean[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const node = nodes[i % nodes.length]!;
      const { client } = pool.json(node.url, { token: await connToken({ sub: `f${i}`, expIn: 3600 }) });
      const sub = client.newSubscription(ch);
      const got: number[] = [];
      received.push(got);
      ready.push(false);
      sub.on('publication', (p: PublicationContext) => got.push((p.data as { n: number }).n));
      sub.on('subscribed', () => (ready[i] = true));
      sub.subscribe();
      client.connect();
    }
    await waitFor(() => ready.every(Boolean), { what: `${SUBSCRIBERS} subscribed`, timeoutMs: 30_000 });

    const acked: number[] = [];
    const refused: { n: number; code: number }[] = [];
    let unhealthySeen = false;
    const started = Date.now();
    const total = Math.round(((BEFORE_MS + OUTAGE_MS + AFTER_MS) / 1000) * RATE_PER_S);
    let killed = false;
    let restarted = false;
    const outage = (async () => {
      await sleep(BEFORE_MS);
      await redis.kill();
      killed = true;
      const until = Date.now() + OUTAGE_MS;
      while (Date.now() < until) {
        const r = await fetch(`${nodes[0]!.proc.baseUrl}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        if (r !== undefined) {
          await r.arrayBuffer();
          if (r.status === 500) unhealthySeen = true;
        }
        await sleep(100);
      }
      await redis.restart();
      restarted = true;
    })();
    for (let n = 1; n <= total; n++) {
      const due = started + (n * 1000) / RATE_PER_S;
      if (due > Date.now()) await sleep(due - Date.now());
      const node = nodes[n % nodes.length]!;
      const r = await callApi(node.apiUrl, 'publish', { channel: ch, data: { n } }).catch(() => undefined);
      const body = r?.body;
      if (isRecord(body) && isRecord(body['result'])) acked.push(n);
      else {
        const err = isRecord(body) && isRecord(body['error']) ? Number(body['error']['code']) : -1;
        refused.push({ n, code: err });
      }
    }
    await outage;
    assert.ok(killed && restarted);
    assert.ok(unhealthySeen, '/health reported the outage');
    assert.ok(acked.length > total / 3, `a good share of publishes acknowledged (${acked.length}/${total})`);
    assert.ok(refused.length > 0, 'some publishes were refused while Redis was down');
    for (const r of refused) assert.equal(r.code, 100, `refused publish ${r.n} answered with code 100`);

    const missing = (got: number[]): number => {
      const have = new Set(got);
      return acked.filter((n) => !have.has(n)).length;
    };
    await waitFor(() => received.every((g) => missing(g) === 0), {
      what: 'every client to hold every acknowledged publication',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    await sleep(200);
    for (const [i, got] of received.entries()) {
      assert.equal(new Set(got).size, got.length, `client ${i}: no duplicates`);
      for (let k = 1; k < got.length; k++) assert.ok(got[k]! > got[k - 1]!, `client ${i}: in order at ${k}`);
    }
  });
});
