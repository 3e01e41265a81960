// JSON command decode micro-benchmark: the byte-span decoder (src/protocol/json-decode.ts, payloads kept as
// the bytes received) against the decoder it replaced (bench/lib/json-decode-before.ts: JSON.parse of the
// decoded text, data re-serialised with JSON.stringify). Typical frames of the connect/subscribe hot path
// and publish/rpc commands with payloads, then server API bodies. Prints CPU ns/op (median of RUNS alternating runs) and now ÷ before.
// Run: node --import tsx bench/json-decode.bench.ts
import { parseApiJson } from '../src/api/decode.js';
import { decodeJsonCommands } from '../src/protocol/json-decode.js';
import { signHs256 } from '../src/auth/sign.js';
import { decodeJsonCommands as decodeBefore } from './lib/json-decode-before.js';
import { compareCpu } from './lib/cpu-ab.js';

const RUNS = 7;
const RUN_MS = 200;
const MAX_ITERATIONS_PER_RUN = 5_000_000;

const encoder = new TextEncoder();
/** Runs `a` and `b` alternately RUNS times each (so both see the same noise); medians in ns/op. */
const compare = (a: () => number, b: () => number): [number, number] =>
  compareCpu(a, b, { runs: RUNS, runMs: RUN_MS, maxCallsPerRun: MAX_ITERATIONS_PER_RUN, batch: 100 });

const token = signHs256({ sub: '42', exp: 2_000_000_000, info: { name: 'Alice' } }, 'secret-key-for-the-bench');
const item = (i: number): string => `{"id":${i},"name":"item ${i} — ünïcode","tags":["a","b"],"score":${i}.5}`;
const kib = `{"type":"update","items":[${Array.from({ length: 14 }, (_, i) => item(i)).join(',')}]}`;

const cases: Array<[string, string]> = [
  ['connect (token)', `{"connect":{"token":"${token}","name":"js"},"id":1}`],
  ['subscribe', '{"subscribe":{"channel":"chat:index"},"id":2}'],
  ['subscribe (recover)', '{"subscribe":{"channel":"chat:index","recover":true,"epoch":"xVQD","offset":1234},"id":3}'],
  ['3 subscribes / frame', [4, 5, 6].map((i) => `{"subscribe":{"channel":"chat:${i}"},"id":${i}}`).join('\n')],
  ['publish tiny', '{"publish":{"channel":"chat:index","data":{"text":"hello"}},"id":7}'],
  ['publish 1 KiB', `{"publish":{"channel":"chat:index","data":${kib}},"id":8}`],
  ['rpc', '{"rpc":{"method":"getUser","data":{"id":9007199254740993}},"id":9}'],
  ['ping (pong)', '{}'],
];

console.log(`json-decode.bench: median of ${RUNS} alternating runs x ${RUN_MS} ms CPU, node ${process.version}`);
console.log(`${'frame'.padEnd(24)}${'bytes'.padStart(7)}${'before ns'.padStart(12)}${'now ns'.padStart(10)}${'now/before'.padStart(12)}`);
for (const [name, text] of cases) {
  const frame = encoder.encode(text);
  const a = decodeBefore(frame);
  const b = decodeJsonCommands(frame);
  if (a.error !== undefined || b.error !== undefined || a.commands.length !== b.commands.length) throw new Error(`bad case ${name}`);
  const [before, now] = compare(
    () => decodeBefore(frame).commands.length,
    () => decodeJsonCommands(frame).commands.length,
  );
  console.log(
    `${name.padEnd(24)}${String(frame.length).padStart(7)}${before.toFixed(0).padStart(12)}${now.toFixed(0).padStart(10)}${(now / before).toFixed(2).padStart(12)}`,
  );
}

// Server API bodies: before = JSON.parse of the text, then each payload re-serialised (JSON.stringify +
// UTF-8 encode, as src/api/schemas.ts did); now = parseApiJson (payloads cut as bytes, depth limit).
const textDecoder = new TextDecoder();
function apiBefore(body: Uint8Array): number {
  const v = JSON.parse(textDecoder.decode(body)) as { data?: unknown; commands?: Array<{ publish: { data: unknown } }> };
  let n = 0;
  if (v.data !== undefined) n += encoder.encode(JSON.stringify(v.data)).length;
  for (const c of v.commands ?? []) n += encoder.encode(JSON.stringify(c.publish.data)).length;
  return n;
}
const apiCases: Array<[string, string]> = [
  ['API publish tiny', '{"channel":"chat:index","data":{"text":"hello"}}'],
  ['API publish 1 KiB', `{"channel":"chat:index","data":${kib}}`],
  [
    'API batch 1,000 publish',
    `{"commands":[${Array.from({ length: 1000 }, (_, i) => `{"publish":{"channel":"chat:${i % 10}","data":${item(i)}}}`).join(',')}]}`,
  ],
];
console.log(`${'API body'.padEnd(24)}${'bytes'.padStart(7)}${'before ns'.padStart(12)}${'now ns'.padStart(10)}${'now/before'.padStart(12)}`);
for (const [name, text] of apiCases) {
  const body = encoder.encode(text);
  if (!parseApiJson(body).ok) throw new Error(`bad case ${name}`);
  const [before, now] = compare(
    () => apiBefore(body),
    () => (parseApiJson(body).ok ? 1 : 0),
  );
  console.log(
    `${name.padEnd(24)}${String(body.length).padStart(7)}${before.toFixed(0).padStart(12)}${now.toFixed(0).padStart(10)}${(now / before).toFixed(2).padStart(12)}`,
  );
}
