// The fault scenario shared by the Redis fault tests: 200 subscribers on the given Gyre nodes, 50 publications/s
// through the API, and a fault (`fault()`, e.g. Redis killed and restarted, or a Sentinel failover) in the middle.
// Afterwards every client holds every acknowledged publication exactly once, at its offset, and the server sent
// each client its publications in offset order (the nodes told them, after PUB/SUB came back, to recover from
// history); publishes refused during the fault got error 100; /health reported the fault. (Order is checked on
// the wire: centrifuge-js events were seen swapped for a pair of publications after a 2500 resubscribe while the
// frames it received were in order.)
import assert from 'node:assert/strict';
import type { PublicationContext } from 'centrifuge';
import { callApi, isRecord, type ClientPool, type Recorder } from '../harness/clients.js';
import { connToken } from '../harness/tokens.js';
import { sleep, waitFor } from '../harness/wait.js';
import type { GyreNode } from './nodes.js';
import { uniq } from './scenarios.js';

const SUBSCRIBERS = 200;
const RATE_PER_S = 50;
const BEFORE_MS = 1500;
const AFTER_MS = 2500;
/** Bound of the publish loop (30 s at 50/s): a fault that takes longer fails the test. */
const MAX_PUBLISHES = 1500;

export async function faultUnderLoad(nodes: readonly GyreNode[], pool: ClientPool, fault: () => Promise<void>): Promise<void> {
  const ch = uniq('xx:fault');
  /** Per client: [n, offset] in arrival order. */
  const received: [number, number][][] = [];
  const ready: boolean[] = [];
  const recs: Recorder[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const node = nodes[i % nodes.length]!;
    const { client, rec } = pool.json(node.url, { token: await connToken({ sub: `f${i}`, expIn: 3600 }) });
    recs.push(rec);
    const sub = client.newSubscription(ch);
    const got: [number, number][] = [];
    received.push(got);
    ready.push(false);
    sub.on('publication', (p: PublicationContext) => got.push([(p.data as { n: number }).n, Number(p.offset)]));
    sub.on('subscribed', () => (ready[i] = true));
    sub.subscribe();
    client.connect();
  }
  await waitFor(() => ready.every(Boolean), { what: `${SUBSCRIBERS} subscribed`, timeoutMs: 30_000 });

  const acked: number[] = [];
  const ackedOffset = new Map<number, number>();
  const refused: { n: number; code: number }[] = [];
  let unhealthySeen = false;
  const started = Date.now();
  let outageDone = false;
  /** The publication being sent, and the ones being sent when the fault began and ended. */
  let current = 0;
  let faultFrom = 0;
  let faultTo = 0;
  const outage = (async () => {
    await sleep(BEFORE_MS);
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const r = await fetch(`${nodes[0]!.proc.baseUrl}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        if (r !== undefined) {
          await r.arrayBuffer();
          if (r.status === 500) unhealthySeen = true;
        }
        await sleep(100);
      }
    })();
    faultFrom = current;
    await fault();
    faultTo = current;
    probing = false;
    await probe;
    outageDone = true;
  })();
  let doneAt = Infinity;
  // Publishing goes on until AFTER_MS after the fault is over (bounded: MAX_PUBLISHES).
  for (let n = 1; n <= MAX_PUBLISHES; n++) {
    current = n;
    if (outageDone && doneAt === Infinity) doneAt = Date.now();
    if (Date.now() > doneAt + AFTER_MS) break;
    const due = started + (n * 1000) / RATE_PER_S;
    if (due > Date.now()) await sleep(due - Date.now());
    const node = nodes[n % nodes.length]!;
    const r = await callApi(node.apiUrl, 'publish', { channel: ch, data: { n } }).catch(() => undefined);
    const body = r?.body;
    if (isRecord(body) && isRecord(body['result'])) {
      acked.push(n);
      ackedOffset.set(n, Number(body['result']['offset']));
    }
    else {
      const err = isRecord(body) && isRecord(body['error']) ? Number(body['error']['code']) : -1;
      refused.push({ n, code: err });
    }
  }
  await outage;
  const total = acked.length + refused.length;
  assert.ok(unhealthySeen, '/health reported the outage');
  const before = acked.filter((n) => n < faultFrom).length;
  const afterwards = acked.filter((n) => n > faultTo).length;
  assert.ok(before >= 5 && afterwards >= 5, `publishes acknowledged before (${before}) and after (${afterwards}) the fault, of ${total}`);
  assert.ok(refused.length > 0, 'some publishes were refused while Redis was down');
  for (const r of refused) assert.equal(r.code, 100, `refused publish ${r.n} answered with code 100`);

  const missing = (got: [number, number][]): number => {
    const have = new Set(got.map(([n]) => n));
    return acked.filter((n) => !have.has(n)).length;
  };
  await waitFor(() => received.every((g) => missing(g) === 0), {
    what: 'every client to hold every acknowledged publication',
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  await sleep(200);
  // Exactly once, at its acknowledged offset, as the client application saw it (centrifuge-js events).
  for (const [i, got] of received.entries()) {
    const offsets = got.map(([, o]) => o);
    assert.equal(new Set(offsets).size, offsets.length, `client ${i}: no duplicates`);
    for (const [n, o] of got) {
      const want = ackedOffset.get(n);
      if (want !== undefined) assert.equal(o, want, `client ${i}: publication ${n} at its acknowledged offset`);
    }
  }
  // In order: what the server sent each client (live pushes and recovered publications in subscribe replies,
  // in frame order) has strictly increasing offsets. A publish refused on a timeout may still have run in Redis:
  // it then sits at a later offset than publications acknowledged after it, and is delivered there, once.
  for (const [i, rec] of recs.entries()) {
    const wire: number[] = [];
    for (const m of rec.messages()) {
      if (!isRecord(m)) continue;
      const push = m['push'];
      if (isRecord(push) && push['channel'] === ch && isRecord(push['pub'])) wire.push(Number(push['pub']['offset']));
      const sub = m['subscribe'];
      if (isRecord(sub) && Array.isArray(sub['publications'])) {
        for (const p of sub['publications'] as unknown[]) if (isRecord(p)) wire.push(Number(p['offset']));
      }
    }
    for (let k = 1; k < wire.length; k++) {
      assert.ok(wire[k]! > wire[k - 1]!, `client ${i}: server sent offsets in order (${wire.slice(Math.max(0, k - 2), k + 2).join(',')})`);
    }
  }
}
