// Delta compression cost in the fan-out (docs/delta.md): N JSON subscribers on one channel with history, M
// publications of a ~2 KB document that changes a little each time. "plain": subscribers without delta. "delta":
// the same with `delta: "fossil"` and publications made with delta. The fossil delta and each frame are built once
// per publication, so deliveries/s should stay close while the bytes written per delivery drop.
// Prints deliveries/s and bytes per delivery, median of 5 runs, and the ratios.
// Run: node --import tsx bench/delta.bench.ts [N...]   (default 1000 10000)
import { namespace } from '../test/unit/core/config-fixture.js';
import type { Node } from '../src/core/node.js';
import { median, nextMacrotask, subscribedNode, type CountingTransport } from './lib/fake-node.js';

const RUNS = 5;
const MESSAGES = 50;
const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const CHANNEL = 'dl:doc';
const enc = new TextEncoder();
const rows = Array.from({ length: 40 }, (_, i) => ({ id: i, name: `instrument-${i}`, bid: 100 + i, ask: 101 + i }));

let seq = 0;
function nextPayload(): Uint8Array {
  seq++;
  rows[seq % rows.length]!.bid = 100 + (seq % 97);
  return enc.encode(JSON.stringify({ seq, rows }));
}

async function setup(n: number, delta: boolean): Promise<{ node: Node; transports: CountingTransport[] }> {
  const sub = delta ? `{"channel":"${CHANNEL}","delta":"fossil"}` : `{"channel":"${CHANNEL}"}`;
  return subscribedNode(n, CHANNEL, sub, {
    namespaces: [namespace('dl', { history_size: 10, history_ttl: 300_000, force_positioning: true, allowed_delta_types: ['fossil'] })],
  });
}

async function run(node: Node, transports: CountingTransport[], delta: boolean): Promise<{ rate: number; bytes: number }> {
  const payloads = Array.from({ length: MESSAGES }, nextPayload);
  const before = transports.reduce((a, t) => a + t.bytes, 0);
  const start = performance.now();
  for (let m = 0; m < MESSAGES; m++) await node.publish(CHANNEL, payloads[m]!, delta ? { delta: true } : {});
  await nextMacrotask(); // writers flush on setImmediate
  const ms = performance.now() - start;
  const bytes = transports.reduce((a, t) => a + t.bytes, 0) - before;
  return { rate: ((transports.length * MESSAGES) / ms) * 1000, bytes: bytes / (transports.length * MESSAGES) };
}

async function main(): Promise<void> {
  const sizes = SIZES.length > 0 ? SIZES : [1000, 10000];
  console.log(`delta: ${MESSAGES} publications of ~${nextPayload().byteLength} B per run, median of ${RUNS} runs, JSON subscribers`);
  console.log('subscribers | plain deliveries/s | delta deliveries/s | rate ratio | plain B/delivery | delta B/delivery');
  for (const n of sizes) {
    const plain = await setup(n, false);
    const delta = await setup(n, true);
    const p: Array<{ rate: number; bytes: number }> = [];
    const d: Array<{ rate: number; bytes: number }> = [];
    for (let r = 0; r < RUNS; r++) {
      p.push(await run(plain.node, plain.transports, false));
      d.push(await run(delta.node, delta.transports, true));
    }
    const pr = median(p.map((x) => x.rate));
    const dr = median(d.map((x) => x.rate));
    const pb = median(p.map((x) => x.bytes));
    const db = median(d.map((x) => x.bytes));
    const fmt = (x: number, w: number): string => Math.round(x).toLocaleString('en-US').padStart(w);
    console.log(`${String(n).padStart(11)} | ${fmt(pr, 18)} | ${fmt(dr, 18)} | ${(dr / pr).toFixed(2)}x      | ${fmt(pb, 16)} | ${fmt(db, 16)}`);
    await plain.node.shutdown();
    await delta.node.shutdown();
  }
}

await main();
