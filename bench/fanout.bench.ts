// Fan-out micro-benchmark: N subscribers (fake transports) on one channel, M publications per run.
// "gyre": the real path (Node.publish → memory broker → Fanout: one encodePublicationPush per publication,
// plain loop, per-session Writer). "naive": the same subscribers and Writers, but every delivery builds its
// own JSON.parse + JSON.stringify + TextEncoder copy (what encode-once avoids). Writers are drained (one
// macrotask after the last publish, every transport.write done) before the clock stops.
// Prints deliveries/s, median of 5 runs, and the ratio.
// Run: node --import tsx bench/fanout.bench.ts [N...]   (default 5000 20000)
import pino from 'pino';
import type { ConnectTokenClaims, SubscribeTokenClaims, TokenVerifier } from '../src/auth/types.js';
import type { GyreConfig } from '../src/config/types.js';
import { Node } from '../src/core/node.js';
import { Writer } from '../src/core/writer.js';
import { createMemoryEngine } from '../src/engines/memory/index.js';
import type { Disconnect } from '../src/protocol/errors.js';
import { codecFor } from '../src/protocol/index.js';
import type { Transport, TransportInfo } from '../src/transports/types.js';
import { makeConfig } from '../test/unit/core/config-fixture.js';

const RUNS = 5;
const MESSAGES = 50;
const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const CHANNEL = 'index';
const enc = new TextEncoder();
const payload = enc.encode('{"text":"hello world","user":"someone","n":12345}');

class CountingTransport implements Transport {
  readonly info: TransportInfo = { name: 'websocket', protocol: 'json', unidirectional: false, remoteAddress: '127.0.0.1', headers: {} };
  readonly bufferedBytes = 0;
  onceDrained(cb: () => void): void {
    setImmediate(cb);
  }
  pauseReading(): void {}
  resumeReading(): void {}
  frames = 0;
  bytes = 0;
  write(frame: Uint8Array): void {
    this.frames++;
    this.bytes += frame.byteLength;
  }
  close(_d?: Disconnect): void {}
}

const noTokens: TokenVerifier = {
  verifyConnectToken: (): Promise<ConnectTokenClaims> => Promise.reject(new Error('unused')),
  verifySubscribeToken: (): Promise<SubscribeTokenClaims> => Promise.reject(new Error('unused')),
};

const nextMacrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function setupGyre(n: number): Promise<{ node: Node; transports: CountingTransport[] }> {
  const config: GyreConfig = makeConfig({ client: { insecure: true, queue_max_size: 64 << 20, ping_interval: 0, presence_update_interval: 0 } });
  const node = new Node({ config, engine: createMemoryEngine(), tokenVerifier: noTokens, logger: pino({ level: 'silent' }), version: 'bench' });
  await node.start();
  const transports: CountingTransport[] = [];
  const frame = enc.encode(`{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"${CHANNEL}"}}`);
  for (let i = 0; i < n; i++) {
    const t = new CountingTransport();
    node.accept(t).handleFrame(frame);
    transports.push(t);
  }
  const deadline = Date.now() + 30_000;
  // Every session answered its connect + subscribe frame (one reply frame each).
  while (transports.reduce((a, t) => a + (t.frames > 0 ? 1 : 0), 0) < n) {
    if (Date.now() > deadline) throw new Error('setup timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
  if ((node.hub.channels.get(CHANNEL)?.subs.length ?? 0) !== n) throw new Error('not every session subscribed');
  return { node, transports };
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
