// How many connections does Node accept per event-loop turn? 3,000 connects are queued by the kernel at once
// (client and server in this process, backlog 4096); a setImmediate chain counts loop turns and the largest
// number of 'connection' events seen between two turns. ACCEPT_WORK_MS busy-waits in each connection callback.
// Run: node bench/profile/accept-per-turn.mjs          (Node 20 / libuv 1.46 here: at most 2 per turn)
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';

const N = 3000;
const work = Number(process.env.ACCEPT_WORK_MS ?? 0.2);
let turns = 0;
let accepts = 0;
let sinceTurn = 0;
let maxPerTurn = 0;
function turn() {
  turns++;
  if (sinceTurn > maxPerTurn) maxPerTurn = sinceTurn;
  sinceTurn = 0;
  if (accepts < N) setImmediate(turn);
}
const server = net.createServer((s) => {
  accepts++;
  sinceTurn++;
  s.on('error', () => {});
  const end = performance.now() + work;
  while (performance.now() < end);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = server.address();
  const clients = [];
  for (let i = 0; i < N; i++) clients.push(net.connect(port, '127.0.0.1').on('error', () => {}));
  setImmediate(turn);
  const t0 = performance.now();
  const done = setInterval(() => {
    if (accepts < N && performance.now() - t0 < 20_000) return;
    clearInterval(done);
    console.log(`node ${process.version} libuv ${process.versions.uv}: ${accepts} accepted in ${turns} loop turns, at most ${maxPerTurn} per turn`);
    for (const c of clients) c.destroy();
    server.close();
  }, 50);
});
