// The floor of the benchmark table: a bare `ws` broadcast server speaking just the Centrifugo JSON protocol
// subset the load tester uses (connect with any token, subscribe, app-level ping {} / pong {}), plus
// POST /api/publish. A Map channel → Set of sockets; each publication is encoded once and sent per subscriber.
// Run: node --import tsx bench/peers/ws-bare.ts --port 8000 --api-key KEY [--ping 25]
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { exitOnSignals, handlePublish, parsePeerFlags } from './common.js';

const flags = parsePeerFlags(process.argv.slice(2));
const channels = new Map<string, Set<WebSocket>>();
const subsOf = new WeakMap<WebSocket, Set<string>>();
const TEXT = { binary: false } as const;
const PING = Buffer.from('{}');

function reply(ws: WebSocket, text: string): void {
  ws.send(Buffer.from(text), TEXT);
}

function onCommand(ws: WebSocket, line: string): void {
  let cmd: unknown;
  try {
    cmd = JSON.parse(line);
  } catch {
    ws.close(3501, 'bad request');
    return;
  }
  if (typeof cmd !== 'object' || cmd === null) return ws.close(3501, 'bad request');
  const c = cmd as Record<string, unknown>;
  const id = typeof c['id'] === 'number' ? c['id'] : 0;
  if (id === 0) return; // pong ({}) or send: nothing to answer
  if (typeof c['connect'] === 'object') {
    reply(ws, `{"id":${id},"connect":{"client":"${randomUUID()}","version":"peer","ping":${flags.pingSec},"pong":true}}`);
    return;
  }
  const sub = c['subscribe'];
  if (typeof sub === 'object' && sub !== null) {
    const ch = (sub as Record<string, unknown>)['channel'];
    if (typeof ch !== 'string' || ch === '') return ws.close(3501, 'bad request');
    let set = channels.get(ch);
    if (set === undefined) channels.set(ch, (set = new Set()));
    set.add(ws);
    subsOf.get(ws)?.add(ch);
    reply(ws, `{"id":${id},"subscribe":{}}`);
    return;
  }
  reply(ws, `{"id":${id},"error":{"code":108,"message":"not available"}}`);
}

function dropSocket(ws: WebSocket): void {
  const subs = subsOf.get(ws);
  if (subs === undefined) return;
  for (const ch of subs) {
    const set = channels.get(ch);
    if (set === undefined) continue;
    set.delete(ws);
    if (set.size === 0) channels.delete(ch);
  }
  subsOf.delete(ws);
}

const http = createServer((req, res) => {
  const handled = handlePublish(req, res, flags.apiKey, (p) => {
    const set = channels.get(p.channel);
    if (set === undefined) return;
    const frame = Buffer.from(`{"push":{"channel":${JSON.stringify(p.channel)},"pub":{"data":${p.dataJson}}}}`);
    for (const ws of set) ws.send(frame, TEXT);
  });
  if (!handled) res.writeHead(404).end();
});

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
http.on('upgrade', (req, socket, head) => {
  if (req.url?.split('?')[0] !== '/connection/websocket') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    subsOf.set(ws, new Set());
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (text.indexOf('\n') < 0) return onCommand(ws, text);
      for (const line of text.split('\n')) if (line !== '') onCommand(ws, line);
    });
    ws.on('close', () => dropSocket(ws));
    ws.on('error', () => ws.terminate());
  });
});

// One timer for all connections: app-level ping {} to everyone every pingSec. Pongs are ignored.
const pinger = setInterval(() => {
  for (const ws of wss.clients) ws.send(PING, TEXT);
}, flags.pingSec * 1000);

http.listen({ host: flags.host, port: flags.port, backlog: 4096 });

exitOnSignals(async () => {
  clearInterval(pinger);
  for (const ws of wss.clients) ws.terminate();
  await new Promise<void>((r) => http.close(() => r()));
});
