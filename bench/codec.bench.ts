// Codec micro-benchmark: the JSON publication push (encoded once, raw payload spliced in) against the naive
// approach of re-serialising the parsed payload (`JSON.stringify({push:{channel, pub:{data: JSON.parse(text)}}})`),
// which a server without raw splicing would pay per subscriber. Prints ops/s (median of 5 runs) and ratios.
// Run: node --import tsx bench/codec.bench.ts
import { codecFor } from '../src/protocol/index.js';
import type { Publication } from '../src/protocol/types.js';

const RUNS = 5;
const RUN_MS = 300;
const MAX_ITERATIONS_PER_RUN = 5_000_000;
const FANOUT = 100;

const encoder = new TextEncoder();
let sink = 0; // keeps results alive so nothing is optimised away

function opsPerSecond(fn: () => number): number {
  const results: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < RUN_MS && n < MAX_ITERATIONS_PER_RUN) {
      for (let i = 0; i < 100; i++) sink += fn();
      n += 100;
      elapsed = performance.now() - start;
    }
    results.push((n / elapsed) * 1000);
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(RUNS / 2)] ?? 0;
}

function payload(bytes: number): string {
  const items: Array<{ id: number; name: string; tags: string[]; score: number }> = [];
  let text = '';
  for (let i = 0; text.length < bytes; i++) {
    items.push({ id: i, name: `item ${i} — ünïcode`, tags: ['a', 'b', 'c'], score: i * 1.5 });
    text = JSON.stringify({ type: 'update', items });
  }
  return text;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(12);

const json = codecFor('json');
const pb = codecFor('protobuf');
const channel = 'chat:index';
const cases: Array<[string, string]> = [
  ['tiny (16 B)', '{"text":"hello"}'],
  ['1 KiB', payload(1024)],
  ['16 KiB', payload(16 * 1024)],
];

console.log(`codec.bench: median of ${RUNS} runs x ${RUN_MS} ms, node ${process.version}`);
console.log(`${'payload'.padEnd(14)}${'gyre json'.padStart(12)}${'naive'.padStart(12)}${'ratio'.padStart(8)}${'naive+bytes'.padStart(13)}${'ratio'.padStart(8)}${'gyre pb'.padStart(12)}`);
for (const [name, text] of cases) {
  const data = encoder.encode(text);
  const pub: Publication = { data, offset: 8, info: { user: '42', client: '9a3b7c52-1d4e-4f7a-8b2c-6e5d4c3b2a10' } };
  const info = pub.info;
  const gyre = opsPerSecond(() => json.encodePublicationPush(channel, pub).length);
  const naive = opsPerSecond(() => JSON.stringify({ push: { channel, pub: { data: JSON.parse(text) as unknown, info, offset: 8 } } }).length);
  const naiveBytes = opsPerSecond(
    () => encoder.encode(JSON.stringify({ push: { channel, pub: { data: JSON.parse(text) as unknown, info, offset: 8 } } })).length,
  );
  const proto = opsPerSecond(() => pb.encodePublicationPush(channel, pub).length);
  console.log(
    `${name.padEnd(14)}${fmt(gyre)}${fmt(naive)}${(gyre / naive).toFixed(1).padStart(7)}x${fmt(naiveBytes)}${(gyre / naiveBytes).toFixed(1).padStart(7)}x${fmt(proto)}`,
  );
}

// Fan-out: one publication to FANOUT subscribers. Gyre encodes once and shares the bytes; the naive
// server encodes per subscriber.
{
  const text = cases[1]?.[1] ?? '{}';
  const pub: Publication = { data: encoder.encode(text), offset: 8 };
  const gyre = opsPerSecond(() => json.encodePublicationPush(channel, pub).length);
  const naive = opsPerSecond(() => {
    let n = 0;
    for (let s = 0; s < FANOUT; s++) n += JSON.stringify({ push: { channel, pub: { data: JSON.parse(text) as unknown, offset: 8 } } }).length;
    return n;
  });
  console.log(`fan-out of one 1 KiB publication to ${FANOUT} subscribers (publications/s): gyre ${fmt(gyre).trim()}, naive ${fmt(naive).trim()}, ratio ${(gyre / naive).toFixed(0)}x`);
}
if (sink === 42) console.log('');
