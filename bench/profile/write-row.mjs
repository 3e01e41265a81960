// What one row of fan-out writes costs on loopback, and how much of it the receivers set (BENCHMARKS.md §10.7):
// 100 TCP sockets, one 130-byte WebSocket text frame written to each in a row with socket.write, every 10 ms,
// 600 rows; the receiving ends live in another process, in 1 or 2 worker threads that JSON-parse each frame
// (gyre-bench's pools do that, one per core by default). Prints µs per row (p50/p90/p99 after 100 rows).
//   node bench/profile/write-row.mjs 1     # receivers in one thread
//   node bench/profile/write-row.mjs 2     # receivers in two threads (as gyre-bench -w 2 on 2 cores)
import { fork } from 'node:child_process';
import net from 'node:net';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const SOCKETS = 100;
const ROWS = 600;

if (process.argv[2] === 'receivers') {
  const port = Number(process.argv[3]);
  const threads = Number(process.argv[4]);
  for (let t = 0; t < threads; t++) new Worker(new URL(import.meta.url), { workerData: { port, n: SOCKETS / threads } });
} else if (!isMainThread) {
  const { port, n } = workerData;
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('data', (d) => {
      try {
        JSON.parse(d.toString('latin1', 2));
      } catch {
        // several frames in one read: not parsed, still received
      }
    });
  }
} else {
  const threads = Number(process.argv[2] ?? 2);
  const socks = [];
  const body = JSON.stringify({ seq: 1, ts: 1, pad: 'x'.repeat(90) });
  const frame = Buffer.concat([Buffer.from([0x81, body.length]), Buffer.from(body)]);
  const rows = [];
  let child;
  const row = () => {
    const t0 = process.hrtime.bigint();
    for (const s of socks) s.write(frame);
    rows.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (rows.length < ROWS) {
      setTimeout(row, 10);
      return;
    }
    const s = rows.slice(100).sort((a, b) => a - b);
    const p = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(0);
    console.log(`receivers in ${threads} thread(s): a row of ${SOCKETS} socket.write takes p50 ${p(0.5)} p90 ${p(0.9)} p99 ${p(0.99)} µs`);
    child.kill();
    process.exit(0);
  };
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    socks.push(s);
    if (socks.length === SOCKETS) setTimeout(row, 500);
  });
  srv.listen(0, '127.0.0.1', () => {
    child = fork(new URL(import.meta.url).pathname, ['receivers', String(srv.address().port), String(threads)]);
  });
  setTimeout(() => {
    child?.kill();
    process.exit(1);
  }, 60_000).unref();
}
