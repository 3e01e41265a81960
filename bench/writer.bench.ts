// Writer micro-benchmark: the batching per-connection queue (core/writer.ts: messages of one macrotask
// joined into frames of <= 64 by the codec, written on setImmediate) against one transport write per
// message. The fake transport counts frames and writes each one to /dev/null with writeSync: one real
// syscall per frame, a stand-in for the per-write cost of a socket. Prints messages/s and frames per
// message (median of 5 runs) for several burst sizes (messages enqueued per macrotask).
// Run: node --import tsx bench/writer.bench.ts
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writer } from '../src/core/writer.js';
import { codecFor } from '../src/protocol/index.js';
import { CountingTransport } from './lib/fake-node.js';

const RUNS = 5;
const MESSAGES_PER_RUN = 200_000;
const BURSTS = [1, 10, 100, 1000] as const;

/** Counts frames and writes each one to `fd`: one real syscall per frame. */
class SyscallTransport extends CountingTransport {
  constructor(private readonly fd: number) {
    super();
  }
  override write(frame: Uint8Array): void {
    super.write(frame);
    writeSync(this.fd, frame);
  }
}

const codec = codecFor('json');
const devNull = openSync('/dev/null', 'w');
const message = new TextEncoder().encode('{"push":{"channel":"chat:index","pub":{"data":{"text":"hello world"},"offset":8}}}');
const nextMacrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

interface RunResult {
  msgsPerSec: number;
  framesPerMsg: number;
}

async function runBatched(burst: number): Promise<RunResult> {
  const t = new SyscallTransport(devNull);
  const w = new Writer({ transport: t, codec, maxQueueBytes: 64 << 20, onOverflow: () => undefined });
  const start = performance.now();
  for (let sent = 0; sent < MESSAGES_PER_RUN; ) {
    for (let i = 0; i < burst && sent < MESSAGES_PER_RUN; i++, sent++) w.enqueue(message);
    await nextMacrotask(); // the writer's flush runs in this turn
  }
  const ms = performance.now() - start;
  w.close();
  return { msgsPerSec: (MESSAGES_PER_RUN / ms) * 1000, framesPerMsg: t.frames / MESSAGES_PER_RUN };
}

async function runPerMessage(burst: number): Promise<RunResult> {
  const t = new SyscallTransport(devNull);
  const start = performance.now();
  for (let sent = 0; sent < MESSAGES_PER_RUN; ) {
    for (let i = 0; i < burst && sent < MESSAGES_PER_RUN; i++, sent++) t.write(message);
    await nextMacrotask();
  }
  const ms = performance.now() - start;
  return { msgsPerSec: (MESSAGES_PER_RUN / ms) * 1000, framesPerMsg: t.frames / MESSAGES_PER_RUN };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function measure(fn: (burst: number) => Promise<RunResult>, burst: number): Promise<RunResult> {
  await fn(burst); // warm-up
  const runs: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await fn(burst));
  return { msgsPerSec: median(runs.map((x) => x.msgsPerSec)), framesPerMsg: median(runs.map((x) => x.framesPerMsg)) };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(13);

async function main(): Promise<void> {
  console.log(`writer.bench: ${MESSAGES_PER_RUN} messages of ${message.byteLength} B per run, median of ${RUNS} runs, node ${process.version}`);
  console.log(
    `${'burst'.padEnd(7)}${'batched msg/s'.padStart(15)}${'frames/msg'.padStart(12)}${'per-msg msg/s'.padStart(15)}${'frames/msg'.padStart(12)}${'ratio'.padStart(8)}`,
  );
  for (const burst of BURSTS) {
    const b = await measure(runBatched, burst);
    const p = await measure(runPerMessage, burst);
    console.log(
      `${String(burst).padEnd(7)}${fmt(b.msgsPerSec)}  ${b.framesPerMsg.toFixed(4).padStart(10)}${fmt(p.msgsPerSec)}  ${p.framesPerMsg.toFixed(4).padStart(10)}${(b.msgsPerSec / p.msgsPerSec).toFixed(2).padStart(7)}x`,
    );
  }
}

try {
  await main();
} finally {
  closeSync(devNull);
}
