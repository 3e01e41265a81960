// Slow and dead peers under a publication stream (docs/storm.md §4), against one real `node bin/gyre.js` and, in
// the same run, the real Centrifugo binary with the same config. Per server: N healthy clients subscribed to one
// channel that a publisher feeds over the HTTP API; first a baseline phase with only them, then a phase where
// M slow readers (subscribed, then `socket.pause()`), K clients that never answer pings, J WebSockets that never
// send connect and J' raw TCP sockets that never send an HTTP request join. Reported: how each kind was closed
// (close code; for paused sockets also the server side leaving ESTABLISHED in /proc/net/tcp) and after how long (median/p95), the healthy
// clients' delivery ratio and lag with vs without the bad peers, and the server's RSS (start/peak/end).
// Every loop is bounded in count and time.
// Usage: node --import tsx bench/slow-peers.bench.ts [--healthy 50] [--slow 20] [--nopong 20] [--noconnect 20]
//        [--rawtcp 20] [--rate 40] [--payload 16384] [--phase 12] [--storm 40]
import { createConnection, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { mergeConfig, startGyre } from '../test/harness/gyre.js';
import { findCentrifugo, startCentrifugo } from '../test/harness/centrifugo.js';
import { connToken } from '../test/harness/tokens.js';
import { API_KEY } from '../test/harness/clients.js';
import { sleep } from '../test/harness/wait.js';
import { baseConfig } from '../test/compat/base-config.js';
import { sampleProcess } from './lib/proc-stats.js';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? d : Number(process.argv[i + 1]);
  return Number.isFinite(v) ? v : d;
}
const HEALTHY = Math.min(500, arg('healthy', 50));
const SLOW = Math.min(500, arg('slow', 20));
const NOPONG = Math.min(500, arg('nopong', 20));
const NOCONNECT = Math.min(500, arg('noconnect', 20));
const RAWTCP = Math.min(500, arg('rawtcp', 20));
const RATE = Math.min(500, arg('rate', 40));
const PAYLOAD = Math.min(256 * 1024, arg('payload', 16384));
const PHASE_MS = Math.min(60, arg('phase', 12)) * 1000;
const STORM_MAX_MS = Math.min(120, arg('storm', 40)) * 1000;
const CHANNEL = 'open:stream';

type Kind = 'slow' | 'nopong' | 'noconnect' | 'rawtcp';
interface BadPeer {
  kind: Kind;
  openedAt: number;
  closedAt: number;
  /** WebSocket close code, 'fin'/'rst' seen on a paused socket, 'http408' etc. for raw TCP. */
  how: string;
}

interface Healthy {
  ws: WebSocket;
  received: number;
  lags: number[];
  closed: number;
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * States of the server's side of the connections from the given client ports, from /proc/net/tcp: a server that
 * closes a paused client cannot get its FIN through a zero window, so the client's side stays ESTABLISHED.
 */
function serverSideStates(serverPort: number, clientPorts: Set<number>): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const local = parseInt(f[1]!.split(':')[1]!, 16);
    const remote = parseInt(f[2]!.split(':')[1]!, 16);
    if (local === serverPort && clientPorts.has(remote)) out.set(remote, f[3]!);
  }
  return out;
}

function config(): Record<string, unknown> {
  return mergeConfig(baseConfig(), {
    log: { level: 'error' },
    client: { ping_interval: '3s', pong_timeout: '2s', stale_close_delay: '5s', queue_max_size: 1_048_576 },
  });
}

function rawText(data: WebSocket.RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString() : data instanceof ArrayBuffer ? Buffer.from(data).toString() : data.toString();
}

/** A server ping is an empty `{}` line; servers may batch it into one frame with publications. */
function hasPing(text: string): boolean {
  return text === '{}' || text.startsWith('{}\n') || text.includes('\n{}\n') || text.endsWith('\n{}');
}

function connectCmd(token: string, id: number): string {
  return JSON.stringify({ id, connect: { token, name: 'slow-peers' } });
}

/** A connected client; answers pings unless `noPong`; subscribes when `subscribe`. Resolves once subscribed/connected. */
function openClient(url: string, token: string, opts: { subscribe: boolean; noPong: boolean }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => reject(new Error('client setup timeout')), 15_000);
    ws.once('error', reject);
    ws.on('open', () => {
      ws.send(connectCmd(token, 1) + (opts.subscribe ? '\n' + JSON.stringify({ id: 2, subscribe: { channel: CHANNEL } }) : ''));
    });
    const onSetup = (data: WebSocket.RawData): void => {
      const text = rawText(data);
      if (!opts.noPong && hasPing(text)) ws.send('{}');
      if ((opts.subscribe && text.includes('"id":2')) || (!opts.subscribe && text.includes('"id":1'))) {
        clearTimeout(timer);
        ws.off('message', onSetup);
        ws.off('error', reject);
        ws.on('error', () => undefined);
        resolve(ws);
      }
    };
    ws.on('message', onSetup);
  });
}

function attachHealthy(ws: WebSocket): Healthy {
  const h: Healthy = { ws, received: 0, lags: [], closed: 0 };
  ws.on('message', (data: WebSocket.RawData) => {
    const text = rawText(data);
    if (hasPing(text)) ws.send('{}');
    const now = Date.now();
    for (const line of text.split('\n')) {
      const m = /"t":(\d+)/.exec(line);
      if (m !== null) {
        h.received++;
        if (h.lags.length < 200_000) h.lags.push(now - Number(m[1]));
      }
    }
  });
  ws.on('close', (code) => {
    h.closed = code;
  });
  return h;
}

/** Publishes at RATE per second for `ms`; returns how many publications were accepted. */
async function publishFor(apiUrl: string, ms: number, stop: () => boolean): Promise<number> {
  const pad = 'x'.repeat(Math.max(0, PAYLOAD - 40));
  const end = Date.now() + ms;
  const every = 1000 / RATE;
  let next = Date.now();
  let ok = 0;
  for (let i = 0; i < RATE * 130 && Date.now() < end && !stop(); i++) {
    const body = JSON.stringify({ channel: CHANNEL, data: { t: Date.now(), pad } });
    const r = await fetch(`${apiUrl}/publish`, {
      method: 'POST',
      headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
      body,
    }).catch(() => null);
    if (r !== null) {
      const j = (await r.json().catch(() => ({}))) as { error?: unknown };
      if (r.status === 200 && j.error === undefined) ok++;
    }
    next += every;
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
  }
  return ok;
}

interface PhaseFigures {
  published: number;
  deliveryPct: number;
  lagP50: number;
  lagP95: number;
  lagP99: number;
}

function phaseFigures(hs: Healthy[], published: number): PhaseFigures {
  const got = hs.reduce((a, h) => a + h.received, 0);
  const lags = hs.flatMap((h) => h.lags);
  return {
    published,
    deliveryPct: published === 0 ? 0 : (100 * got) / (published * hs.length),
    lagP50: pct(lags, 50),
    lagP95: pct(lags, 95),
    lagP99: pct(lags, 99),
  };
}

function resetHealthy(hs: Healthy[]): void {
  for (const h of hs) {
    h.received = 0;
    h.lags = [];
  }
}

async function openBadPeers(url: string, port: number, token: string): Promise<{ peers: BadPeer[]; cleanup: () => void; poll: () => void }> {
  const peers: BadPeer[] = [];
  const slowSockets: { peer: BadPeer; ws: WebSocket; port: number }[] = [];
  const closers: (() => void)[] = [];
  // Slow readers: subscribed, then their socket is paused (the kernel buffers fill, then the server's queue).
  await Promise.all(
    Array.from({ length: SLOW }, async () => {
      const ws = await openClient(url, token, { subscribe: true, noPong: false });
      const peer: BadPeer = { kind: 'slow', openedAt: Date.now(), closedAt: 0, how: '' };
      const sock = (ws as unknown as { _socket: Socket })._socket;
      sock.pause();
      slowSockets.push({ peer, ws, port: sock.localPort ?? 0 });
      peers.push(peer);
      ws.on('close', (code) => {
        if (peer.how === '' || peer.how === 'fin' || peer.how === 'gone') peer.how = `${peer.how === '' ? '' : peer.how + '+'}${code}`;
        if (peer.closedAt === 0) peer.closedAt = Date.now();
      });
      closers.push(() => ws.terminate());
    }),
  );
  // Clients that never answer the server's pings (they read everything).
  await Promise.all(
    Array.from({ length: NOPONG }, async () => {
      const ws = await openClient(url, token, { subscribe: false, noPong: true });
      const peer: BadPeer = { kind: 'nopong', openedAt: Date.now(), closedAt: 0, how: '' };
      peers.push(peer);
      ws.on('close', (code) => {
        peer.closedAt = Date.now();
        peer.how = String(code);
      });
      closers.push(() => ws.terminate());
    }),
  );
  // WebSockets that open but never send connect.
  for (let i = 0; i < NOCONNECT; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const peer: BadPeer = { kind: 'noconnect', openedAt: Date.now(), closedAt: 0, how: '' };
    peers.push(peer);
    ws.on('open', () => {
      peer.openedAt = Date.now();
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      peer.closedAt = Date.now();
      peer.how = String(code);
    });
    closers.push(() => ws.terminate());
  }
  // Raw TCP sockets that never send a request.
  for (let i = 0; i < RAWTCP; i++) {
    const s = createConnection({ host: '127.0.0.1', port });
    const peer: BadPeer = { kind: 'rawtcp', openedAt: Date.now(), closedAt: 0, how: '' };
    peers.push(peer);
    let head = '';
    s.on('data', (b: Buffer) => {
      if (head.length < 200) head += b.toString('latin1');
    });
    s.on('error', () => {
      if (peer.how === '') peer.how = 'rst';
    });
    s.on('close', () => {
      peer.closedAt = Date.now();
      const m = /^HTTP\/1\.1 (\d+)/.exec(head);
      peer.how = m !== null ? `http${m[1] ?? ''}` : peer.how === '' ? 'fin' : peer.how;
    });
    closers.push(() => s.destroy());
  }
  const poll = (): void => {
    const open = slowSockets.filter((x) => x.peer.closedAt === 0);
    if (open.length === 0) return;
    const states = serverSideStates(port, new Set(open.map((x) => x.port)));
    for (const x of open) {
      const st = states.get(x.port);
      const sock = (x.ws as unknown as { _socket: Socket })._socket;
      // 01 ESTABLISHED; 04 FIN_WAIT1 etc. = the server closed; missing = the server's socket is gone (reset).
      if (st === '01') {
        sock.pause(); // ws resumes its socket when its receiver drains: keep it paused
        continue;
      }
      x.peer.closedAt = Date.now();
      x.peer.how = st === undefined ? 'gone' : 'fin';
      // Read what is buffered so the close frame (if any) gives the code.
      sock.resume();
    }
  };
  return { peers, cleanup: () => closers.forEach((c) => c()), poll };
}

interface ServerFigures {
  server: string;
  baseline: PhaseFigures;
  storm: PhaseFigures;
  stormMs: number;
  healthyClosed: string;
  kinds: Record<Kind, { n: number; closed: number; how: string; p50s: number; p95s: number }>;
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
}

async function runServer(name: string, url: string, apiUrl: string, port: number, pid: number): Promise<ServerFigures> {
  const token = await connToken({ sub: 'peer', expIn: 3600 });
  const healthy: Healthy[] = [];
  for (let i = 0; i < HEALTHY; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, HEALTHY - i) }, () => openClient(url, token, { subscribe: true, noPong: false })),
    );
    for (const ws of batch) healthy.push(attachHealthy(ws));
  }
  let rssPeak = 0;
  const rss = (): number => {
    const s = sampleProcess(pid);
    const mb = s === null ? NaN : s.rssBytes / 1048576;
    if (mb > rssPeak) rssPeak = mb;
    return mb;
  };
  const rssStart = rss();
  await sleep(500);
  resetHealthy(healthy);
  const basePub = await publishFor(apiUrl, PHASE_MS, () => false);
  await sleep(1000);
  const baseline = phaseFigures(healthy, basePub);
  resetHealthy(healthy);

  const bad = await openBadPeers(url, port, token);
  const t0 = Date.now();
  const allClosed = (): boolean => bad.peers.every((p) => p.closedAt !== 0);
  const sampler = setInterval(() => {
    rss();
    bad.poll();
  }, 250);
  // At least one phase long, at most STORM_MAX_MS, ending 2 s after the last bad peer was closed.
  let doneAt = 0;
  const stormPub = await publishFor(apiUrl, STORM_MAX_MS, () => {
    if (doneAt === 0 && allClosed()) doneAt = Date.now();
    return doneAt !== 0 && Date.now() - doneAt > 2000 && Date.now() - t0 > PHASE_MS;
  });
  const stormMs = Date.now() - t0;
  await sleep(1000);
  bad.poll();
  clearInterval(sampler);
  const storm = phaseFigures(healthy, stormPub);
  const rssEnd = rss();
  const kinds = {} as ServerFigures['kinds'];
  for (const k of ['slow', 'nopong', 'noconnect', 'rawtcp'] as const) {
    const ps = bad.peers.filter((p) => p.kind === k);
    const closed = ps.filter((p) => p.closedAt !== 0);
    const hows = new Map<string, number>();
    for (const p of ps) hows.set(p.closedAt === 0 ? 'open' : p.how, (hows.get(p.closedAt === 0 ? 'open' : p.how) ?? 0) + 1);
    const secs = closed.map((p) => (p.closedAt - p.openedAt) / 1000);
    kinds[k] = {
      n: ps.length,
      closed: closed.length,
      how: [...hows].map(([h, c]) => `${h}×${c}`).join(' '),
      p50s: pct(secs, 50),
      p95s: pct(secs, 95),
    };
  }
  bad.cleanup();
  const healthyClosed = healthy.filter((h) => h.closed !== 0).map((h) => h.closed).join(',') || '0';
  for (const h of healthy) h.ws.terminate();
  return {
    server: name,
    baseline,
    storm,
    stormMs,
    healthyClosed,
    kinds,
    rssStartMb: rssStart,
    rssPeakMb: rssPeak,
    rssEndMb: rssEnd,
  };
}

function print(fs: ServerFigures[]): void {
  const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
  console.log(
    `\nhealthy ${HEALTHY}, slow ${SLOW}, nopong ${NOPONG}, noconnect ${NOCONNECT}, rawtcp ${RAWTCP}; ` +
      `${RATE}/s × ${PAYLOAD} B; ping 3s, pong_timeout 2s, stale_close_delay 5s, queue_max_size 1 MiB\n`,
  );
  console.log('| server | kind | closed | how (count) | after, median s | p95 s |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const f of fs) {
    for (const [k, v] of Object.entries(f.kinds)) {
      console.log(`| ${f.server} | ${k} | ${v.closed}/${v.n} | ${v.how} | ${f1(v.p50s)} | ${f1(v.p95s)} |`);
    }
  }
  console.log('\n| server | phase | published | delivered % | lag p50 ms | p95 ms | p99 ms | healthy closed | RSS start / peak / end MB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const f of fs) {
    for (const [ph, v] of [
      ['baseline', f.baseline],
      [`bad peers (${(f.stormMs / 1000).toFixed(0)} s)`, f.storm],
    ] as const) {
      console.log(
        `| ${f.server} | ${ph} | ${v.published} | ${v.deliveryPct.toFixed(2)} | ${v.lagP50} | ${v.lagP95} | ${v.lagP99} | ` +
          `${ph === 'baseline' ? '' : f.healthyClosed} | ${ph === 'baseline' ? '' : `${f1(f.rssStartMb)} / ${f1(f.rssPeakMb)} / ${f1(f.rssEndMb)}`} |`,
      );
    }
  }
}

async function main(): Promise<void> {
  const cfg = config();
  const out: ServerFigures[] = [];
  const gyre = await startGyre(mergeConfig(cfg, { http_server: { warmup_connections: 0 } }), { bin: true });
  try {
    out.push(await runServer('gyre', gyre.url, gyre.apiUrl, gyre.port, gyre.pid));
  } finally {
    await gyre.stop();
  }
  if (findCentrifugo() === undefined) {
    console.log('centrifugo not found: gyre only');
  } else {
    const c = await startCentrifugo(cfg);
    try {
      out.push(await runServer('centrifugo', c.url, c.apiUrl, c.port, c.pid));
    } finally {
      await c.stop();
    }
  }
  print(out);
}

await main();
