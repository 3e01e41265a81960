// Cost of one read of a port's kernel accept queue (src/metrics/accept-queue.ts, the admission guard's source):
// both /proc/net tables against only the listener's family, with 8,000 loopback connections held open.
//   node --import tsx bench/profile/accept-queue-read.ts
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { readAcceptQueue } from '../../src/metrics/accept-queue.js';

const N = 8000;
const READS = 20;
const server = createServer(() => undefined);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 65535, () => resolve()));
const port = (server.address() as { port: number }).port;
const clients: Socket[] = [];
for (let i = 0; i < N; i++) {
  clients.push(connect(port, '127.0.0.1').on('error', () => undefined));
  if (i % 500 === 0) await new Promise((r) => setTimeout(r, 50));
}
await new Promise((r) => setTimeout(r, 1500));
for (let round = 0; round < 3; round++) {
  for (const family of ['any', 'IPv4'] as const) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < READS; i++) readAcceptQueue(port, family);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = Number(process.hrtime.bigint() - t0) / READS / 1e6;
    process.stdout.write(`${family.padEnd(4)} wall ${wallMs.toFixed(2)} ms/read, cpu ${((cpu.user + cpu.system) / READS / 1000).toFixed(2)} ms/read\n`);
  }
}
for (const c of clients) c.destroy();
server.close();
