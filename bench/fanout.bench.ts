// Fan-out micro-benchmark: N subscribers (fake transports) on one channel, M publications per run.
// "gyre": the real path (Node.publish → memory broker → Fanout: one encodePublicationPush per publication,
// plain loop, per-session Writer). "naive": the same subscribers and Writers, but every delivery builds its
// own JSON.parse + JSON.stringify + TextEncoder copy (what encode-once avoids). Writers are drained (one
// macrotask after the last publish, every transport.write done) before the clock stops.
// Prints deliveries/s, median of 5 runs, and the ratio.
// Run: node --import tsx bench/fanout.bench.ts [N...]   (default 5000 20000)
import type { Node } from '../src/core/node.js';
import { Writer } from '../src/core/writer.js';
import { codecFor } from '../src/protocol/index.js';
import { CountingTransport, median, nextMacrotask, subscribedNode } from './lib/fake-node.js';

const RUNS = 5;
const MESSAGES = 50;
const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const CHANNEL = 'index';
const enc = new TextEncoder();
const payload = enc.encode('{"text":"hello world","user":"someone","n":12345}');

async function setupGyre(n: number): Promise<{ node: Node; transports: CountingTransport[] }> {
  return subscribedNode(n, CHANNEL, `{"channel":"${CHANNEL}"}`);
}

async function runGyre(node: Node): Promise<number> {
  const start = performance.now();
  for (let m = 0; m < MESSAGES; m++) await node.publish(CHANNEL, payload, {});
  await nextMacrotask(); // writers flush on setImmediate
  return performance.now() - start;
}

async function runNaive(writers: Writer[]): Promise<number> {
  const start = performance.now();
  for (let m = 0; m < MESSAGES; m++) {
    const text = new TextDecoder().decode(payload);
    for (let i = 0; i < writers.length; i++) {
      const msg = JSON.stringify({ push: { channel: CHANNEL, pub: { data: JSON.parse(text) as unknown } } });
      writers[i]!.enqueue(enc.encode(msg));
    }
  }
  await nextMacrotask();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const sizes = SIZES.length > 0 ? SIZES : [5000, 20000];
  const codec = codecFor('json');
  console.log(`fanout: ${MESSAGES} publications per run, median of ${RUNS} runs, JSON subscribers`);
  console.log('subscribers | gyre deliveries/s | naive deliveries/s | ratio');
  for (const n of sizes) {
    const t0 = performance.now();
    const { node, transports } = await setupGyre(n);
    const setupMs = performance.now() - t0;
    const naiveTransports = Array.from({ length: n }, () => new CountingTransport());
    const writers = naiveTransports.map(
      (t) => new Writer({ transport: t, codec, maxQueueBytes: 64 << 20, onOverflow: () => undefined }),
    );
    const gyre: number[] = [];
    const naive: number[] = [];
    const framesBefore = transports.reduce((a, t) => a + t.frames, 0);
    for (let r = 0; r < RUNS; r++) {
      gyre.push(((n * MESSAGES) / (await runGyre(node))) * 1000);
      naive.push(((n * MESSAGES) / (await runNaive(writers))) * 1000);
    }
    const framesAfter = transports.reduce((a, t) => a + t.frames, 0);
    if (framesAfter - framesBefore < n * RUNS) throw new Error('gyre path did not deliver to every subscriber');
    const g = median(gyre);
    const v = median(naive);
    console.log(`${String(n).padStart(11)} | ${Math.round(g).toLocaleString('en-US').padStart(17)} | ${Math.round(v).toLocaleString('en-US').padStart(18)} | ${(g / v).toFixed(2)}x`);
    for (const w of writers) w.close();
    const t1 = performance.now();
    await node.shutdown();
    console.error(`  (${n}: setup ${(setupMs / 1000).toFixed(1)} s, shutdown ${((performance.now() - t1) / 1000).toFixed(1)} s)`);
  }
}

await main();
