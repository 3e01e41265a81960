// Does giving a process K file descriptors of one listening socket raise its accepts per event-loop turn and
// stop the kernel from dropping SYNs in a connect burst? A primary binds the socket without listening or
// polling it (net._createServerHandle, as Node's cluster primary does for shared handles) and sends it K times
// to each of 2 child processes (each send passes a new fd). Each child listens on every copy with a small
// net.Server that hands connections to one handler; the handler reads a request line and answers after
// WORK_MS of busy CPU (a stand-in for a WebSocket handshake). A generator process opens N connections as fast
// as it can and records each one's time to the answer. TcpExt counters over the burst (machine-wide): ListenDrops
// (every SYN or ACK a listener dropped), ListenOverflows (accept queue full), TCPReqQFull* (SYN queue full). Run: node bench/profile/listen-copies.mjs [K ...]     (N=10000 WORK_MS=0.15 GENS=1 by default)
import { fork } from 'node:child_process';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';

const N = Number(process.env.N ?? 10_000);
const WORK_MS = Number(process.env.WORK_MS ?? 0.15);
/** Generator processes, N / GENS connections each (p50/p99 below: the worst generator's). */
const GENS = Number(process.env.GENS ?? 1);
const role = process.argv[2];

const COUNTERS = ['ListenDrops', 'ListenOverflows', 'TCPReqQFullDrop', 'TCPReqQFullDoCookies'];
function tcpExt() {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].startsWith('TcpExt:')) continue;
    const names = lines[i].trim().split(/\s+/);
    const values = lines[i + 1].trim().split(/\s+/);
    return COUNTERS.map((c) => Number(values[names.indexOf(c)] ?? 0));
  }
  return COUNTERS.map(() => 0);
}

if (role === 'child') {
  let turns = 0;
  let accepts = 0;
  let sinceTurn = 0;
  let maxPerTurn = 0;
  let turning = false;
  const turn = () => {
    turns++;
    if (sinceTurn > maxPerTurn) maxPerTurn = sinceTurn;
    sinceTurn = 0;
    if (turning) setImmediate(turn);
  };
  const onConnection = (s) => {
    accepts++;
    sinceTurn++;
    s.on('error', () => {});
    s.once('data', () => {
      const end = performance.now() + WORK_MS;
      while (performance.now() < end);
      s.end('HTTP/1.1 101 ok\r\n\r\n');
    });
  };
  const servers = [];
  process.on('message', (m, handle) => {
    if (m.t === 'copy') {
      const srv = net.createServer(onConnection);
      srv.listen(handle, 4096, () => process.send({ t: 'listening' }));
      servers.push(srv);
    } else if (m.t === 'start') {
      turns = accepts = sinceTurn = maxPerTurn = 0;
      turning = true;
      setImmediate(turn);
    } else if (m.t === 'stop') {
      turning = false;
      const cpu = process.cpuUsage();
      process.send({ t: 'stats', accepts, turns, maxPerTurn, cpuMs: (cpu.user + cpu.system) / 1000 });
    } else if (m.t === 'exit') {
      for (const srv of servers) srv.close();
      process.exit(0);
    }
  });
  process.send({ t: 'up' });
} else if (role === 'gen') {
  const port = Number(process.argv[3]);
  const lat = [];
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  const socks = [];
  for (let i = 0; i < N / GENS; i++) {
    const start = performance.now();
    const c = net.connect(port, '127.0.0.1');
    socks.push(c);
    c.on('connect', () => c.write('GET / HTTP/1.1\r\n\r\n'));
    c.once('data', () => {
      lat.push(performance.now() - start);
      done++;
    });
    c.on('error', () => {
      failed++;
    });
  }
  const check = setInterval(() => {
    if (done + failed < N / GENS && performance.now() - t0 < 30_000) return;
    clearInterval(check);
    lat.sort((a, b) => a - b);
    const q = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? -1);
    for (const c of socks) c.destroy();
    process.send({ t: 'result', done, failed, p50: q(0.5), p99: q(0.99), max: q(1) });
    setTimeout(() => process.exit(0), 100);
  }, 20);
} else {
  const ks = process.argv.slice(2).map(Number);
  const file = new URL(import.meta.url).pathname;
  const handle = net._createServerHandle('127.0.0.1', 0, 4);
  if (typeof handle === 'number') throw new Error(`bind failed: ${handle}`);
  const out = {};
  handle.getsockname(out);
  const port = out.port;
  const once = (cp, t) => new Promise((r) => { const f = (m) => { if (m.t === t) { cp.off('message', f); r(m); } }; cp.on('message', f); });
  for (const k of ks.length > 0 ? ks : [1, 2, 4, 8]) {
    const children = [fork(file, ['child']), fork(file, ['child'])];
    await Promise.all(children.map((c) => once(c, 'up')));
    for (const c of children) {
      for (let i = 0; i < k; i++) {
        const l = once(c, 'listening');
        c.send({ t: 'copy' }, handle);
        await l;
      }
    }
    for (const c of children) c.send({ t: 'start' });
    const cpu0 = await Promise.all(children.map((c) => { const p = once(c, 'stats'); c.send({ t: 'stop' }); return p; }));
    for (const c of children) c.send({ t: 'start' });
    const drops0 = tcpExt();
    const gens = Array.from({ length: GENS }, () => fork(file, ['gen', String(port)]));
    const rs = await Promise.all(gens.map((g) => once(g, 'result')));
    const r = { done: 0, failed: 0, p50: 0, p99: 0, max: 0 };
    for (const x of rs) {
      r.done += x.done;
      r.failed += x.failed;
      r.p50 = Math.max(r.p50, x.p50);
      r.p99 = Math.max(r.p99, x.p99);
      r.max = Math.max(r.max, x.max);
    }
    const drops = tcpExt().map((v, i) => `${COUNTERS[i]} ${v - drops0[i]}`).join(', ');
    const stats = await Promise.all(children.map((c) => { const p = once(c, 'stats'); c.send({ t: 'stop' }); return p; }));
    for (const c of children) c.send({ t: 'exit' });
    const per = stats.map((s, i) => `${s.accepts} in ${s.turns} turns (max ${s.maxPerTurn}/turn, ${Math.round(s.cpuMs - cpu0[i].cpuMs)} ms CPU)`).join(' + ');
    console.log(`K=${k}: ${r.done}/${N} answered, ${r.failed} failed, p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms, ${drops}; children ${per}`);
    await new Promise((res) => setTimeout(res, 500));
  }
  handle.close();
}
