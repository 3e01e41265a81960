import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planSlots } from '../../../loadtest/src/links.js';
import type { PlanInput } from '../../../loadtest/src/links.js';
import { firstFrame } from '../../../loadtest/src/lean-client.js';
import { TokenFactory } from '../../../loadtest/src/token.js';
import { jwtVerify } from 'jose';

const pool: PlanInput['pool'] = {
  url: 'ws://127.0.0.1:1/connection/websocket',
  sourceAddresses: ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'],
  channelPrefix: 'c',
  channels: 1,
  userPrefix: 'u',
  hmacSecret: null,
  tokenTtlSeconds: 0,
  connectTimeoutMs: 1000,
  reconnect: false,
  reconnectMaxDelayMs: 0,
  tickMs: 1000,
};

test('planSlots: processes × workers, contiguous global indexes, unique worker ids, rate split', () => {
  const plan = planSlots({ clients: 10, workers: 2, processes: 2, rate: 100, pool });
  assert.equal(plan.length, 2);
  const slots = plan.flatMap((p) => p.slots);
  assert.deepEqual(slots.map((s) => s.workerId), [0, 1, 2, 3]);
  assert.deepEqual(slots.map((s) => [s.config.firstIndex, s.config.count]), [[0, 3], [3, 2], [5, 3], [8, 2]]);
  assert.equal(slots.reduce((a, s) => a + s.config.ratePerSec, 0), 100);
  // Four addresses over two processes: disjoint slices.
  assert.deepEqual(plan[0]?.slots[0]?.config.sourceAddresses, ['127.0.0.1', '127.0.0.3']);
  assert.deepEqual(plan[1]?.slots[0]?.config.sourceAddresses, ['127.0.0.2', '127.0.0.4']);
});

test('planSlots: fewer addresses than processes are shared; workers 0 = one in-thread pool per process', () => {
  const plan = planSlots({ clients: 7, workers: 0, processes: 3, rate: 0, pool: { ...pool, sourceAddresses: ['127.0.0.1'] } });
  assert.equal(plan.length, 3);
  assert.deepEqual(plan.map((p) => p.slots.length), [1, 1, 1]);
  assert.deepEqual(plan.map((p) => p.slots[0]?.config.count), [3, 2, 2]);
  assert.deepEqual(plan[2]?.slots[0]?.config.sourceAddresses, ['127.0.0.1']);
  assert.ok(plan.every((p) => p.slots[0]?.config.ratePerSec === 0));
  // Never more processes than clients.
  assert.equal(planSlots({ clients: 2, workers: 4, processes: 8, rate: 0, pool }).length, 2);
});

test('firstFrame: connect + subscribe, with recovery fields only when asked', () => {
  const text = (b: Uint8Array): unknown[] => new TextDecoder().decode(b).split('\n').map((l) => JSON.parse(l) as unknown);
  assert.deepEqual(text(firstFrame('t', 'ch')), [{ connect: { token: 't' }, id: 1 }, { subscribe: { channel: 'ch' }, id: 2 }]);
  assert.deepEqual(text(firstFrame(null, null)), [{ connect: {}, id: 1 }]);
  assert.deepEqual(text(firstFrame(null, 'ch', { recoverable: true, recover: true, offset: 7, epoch: 'E' }))[1], {
    subscribe: { channel: 'ch', recoverable: true, recover: true, offset: 7, epoch: 'E' },
    id: 2,
  });
  // offset 0 and an empty epoch are omitted, as centrifuge-js does.
  assert.deepEqual(text(firstFrame(null, 'ch', { recover: true, offset: 0, epoch: '' }))[1], { subscribe: { channel: 'ch', recover: true }, id: 2 });
});

test('synchronous HS256 tokens verify with jose and carry sub, iat and exp', async () => {
  const f = new TokenFactory({ secret: 's3cret', ttlSeconds: 60 });
  const tok = f.forUserSync('user-1', 1_700_000_000);
  const { payload, protectedHeader } = await jwtVerify(tok, new TextEncoder().encode('s3cret'), { currentDate: new Date(1_700_000_010_000) });
  assert.equal(protectedHeader.alg, 'HS256');
  assert.deepEqual(payload, { sub: 'user-1', iat: 1_700_000_000, exp: 1_700_000_060 });
  await assert.rejects(jwtVerify(tok, new TextEncoder().encode('other'), { currentDate: new Date(1_700_000_010_000) }));
  assert.equal(new TokenFactory({ secret: 's', ttlSeconds: 0 }).forUserSync('u', 5).split('.').length, 3);
});
