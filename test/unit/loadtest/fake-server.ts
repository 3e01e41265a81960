// A tiny Centrifugo-compatible server for gyre-bench tests ONLY (never a benchmark target): JSON client
// protocol over WebSocket (connect, subscribe, publish, ping/pong) and POST /api/publish with X-API-Key.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';

export interface FakeServerOptions {
  apiKey?: string;
  hmacSecret?: string;
  /** Ping interval in ms (0 = no pings). Connect result then has `ping` and `pong: true`. */
  pingMs?: number;
  /** Give publications offsets (as a channel with history would). */
  offsets?: boolean;
  /** Keep this many publications per channel (implies offsets) and honour recoverable/recover (docs/protocol.md §5.3). */
  historySize?: number;
  /** Reject this many WebSocket upgrades with HTTP 503 first. */
  rejectFirst?: number;
}

interface Conn {
  ws: WebSocket;
  connected: boolean;
  channels: Set<string>;
  pongs: number;
}

export class FakeServer {
  readonly http: http.Server;
  private readonly wss: WebSocketServer;
  readonly conns = new Set<Conn>();
  private readonly subs = new Map<string, Set<Conn>>();
  private readonly offsets = new Map<string, number>();
  private readonly history = new Map<string, { offset: number; pub: string }[]>();
  readonly epoch = 'fakeEpch';
  recoveredReplies = 0;
  unrecoveredReplies = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  connects = 0;
  publishes = 0;
  subscribes = 0;
  pongs = 0;
  /** Source addresses of accepted WebSocket connections. */
  readonly remoteAddresses = new Set<string>();
  private rejected = 0;

  constructor(private readonly opts: FakeServerOptions = {}) {
    this.http = http.createServer((req, res) => this.api(req, res));
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.http.on('upgrade', (req, socket, head) => {
      if (req.url?.startsWith('/connection/websocket') !== true || this.rejected < (opts.rejectFirst ?? 0)) {
        this.rejected++;
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      if (req.socket.remoteAddress !== undefined) this.remoteAddresses.add(req.socket.remoteAddress);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  async listen(): Promise<{ url: string; api: string; port: number }> {
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', r));
    const port = (this.http.address() as AddressInfo).port;
    return { url: `ws://127.0.0.1:${port}/connection/websocket`, api: `http://127.0.0.1:${port}/api`, port };
  }

  /** Closes every client connection with a close code (e.g. 3001 shutdown), keeping the server up. */
  dropAll(code = 3001, reason = 'shutdown'): number {
    let n = 0;
    for (const c of this.conns) {
      c.ws.close(code, reason);
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private accept(ws: WebSocket): void {
    const conn: Conn = { ws, connected: false, channels: new Set(), pongs: 0 };
    this.conns.add(conn);
    let timer: NodeJS.Timeout | null = null;
    ws.on('close', () => {
      this.conns.delete(conn);
      for (const ch of conn.channels) this.subs.get(ch)?.delete(conn);
      if (timer !== null) {
        clearInterval(timer);
        this.timers.delete(timer);
      }
    });
    ws.on('message', (data) => {
      const text = Buffer.isBuffer(data) ? data.toString() : Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString();
      void this.frame(conn, text).then((startPing) => {
        if (startPing && (this.opts.pingMs ?? 0) > 0 && timer === null) {
          timer = setInterval(() => ws.send('{}'), this.opts.pingMs);
          this.timers.add(timer);
        }
      });
    });
  }

  private async frame(conn: Conn, text: string): Promise<boolean> {
    const replies: string[] = [];
    let startPing = false;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const cmd = JSON.parse(line) as {
        id?: number;
        connect?: { token?: string };
        subscribe?: { channel: string; recoverable?: boolean; recover?: boolean; offset?: number; epoch?: string };
        publish?: { channel: string; data: unknown };
      };
      const id = cmd.id ?? 0;
      if (id === 0) {
        conn.pongs++;
        this.pongs++;
        continue;
      }
      if (cmd.connect !== undefined) {
        if (this.opts.hmacSecret !== undefined) {
          try {
            await jwtVerify(cmd.connect.token ?? '', new TextEncoder().encode(this.opts.hmacSecret));
          } catch {
            conn.ws.close(3500, 'invalid token');
            return false;
          }
        }
        conn.connected = true;
        this.connects++;
        const ping = (this.opts.pingMs ?? 0) > 0 ? { ping: Math.max(1, Math.round((this.opts.pingMs ?? 0) / 1000)), pong: true } : {};
        replies.push(JSON.stringify({ id, connect: { client: `c${this.connects}`, version: '0.0.0 fake', ...ping } }));
        startPing = true;
      } else if (cmd.subscribe !== undefined) {
        const ch = cmd.subscribe.channel;
        conn.channels.add(ch);
        let set = this.subs.get(ch);
        if (set === undefined) this.subs.set(ch, (set = new Set()));
        set.add(conn);
        this.subscribes++;
        replies.push(`{"id":${id},"subscribe":${this.subscribeResult(cmd.subscribe)}}`);
      } else if (cmd.publish !== undefined) {
        this.broadcast(cmd.publish.channel, JSON.stringify(cmd.publish.data));
        replies.push(JSON.stringify({ id, publish: {} }));
      } else {
        conn.ws.close(3501, 'bad request');
        return false;
      }
    }
    if (replies.length > 0) conn.ws.send(replies.join('\n'));
    return startPing;
  }

  private subscribeResult(req: { channel: string; recoverable?: boolean; recover?: boolean; offset?: number; epoch?: string }): string {
    const size = this.opts.historySize ?? 0;
    if (size <= 0 || req.recoverable !== true) return '{}';
    const top = this.offsets.get(req.channel) ?? 0;
    const base = `"recoverable":true,"positioned":true,"epoch":"${this.epoch}"`;
    if (req.recover !== true) return `{${base},"offset":${top}}`;
    const since = req.offset ?? 0;
    const kept = (this.history.get(req.channel) ?? []).filter((h) => h.offset > since);
    const whole = (req.epoch ?? '') === this.epoch && (top === since || (kept[0]?.offset === since + 1 && kept[kept.length - 1]?.offset === top));
    if (!whole) {
      this.unrecoveredReplies++;
      return `{${base},"offset":${top},"was_recovering":true,"recovered":false}`;
    }
    this.recoveredReplies++;
    return `{${base},"offset":${since},"was_recovering":true,"recovered":true,"publications":[${kept.map((h) => h.pub).join(',')}]}`;
  }

  private broadcast(channel: string, data: string): void {
    this.publishes++;
    let pub = `{"data":${data}`;
    const size = this.opts.historySize ?? 0;
    if (this.opts.offsets === true || size > 0) {
      const off = (this.offsets.get(channel) ?? 0) + 1;
      this.offsets.set(channel, off);
      pub += `,"offset":${off}`;
      if (size > 0) {
        let h = this.history.get(channel);
        if (h === undefined) this.history.set(channel, (h = []));
        h.push({ offset: off, pub: pub + '}' });
        if (h.length > size) h.shift();
      }
    }
    const frame = `{"push":{"channel":${JSON.stringify(channel)},"pub":${pub}}}}`;
    for (const c of this.subs.get(channel) ?? []) c.ws.send(frame);
  }

  private api(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      if (this.opts.apiKey !== undefined && req.headers['x-api-key'] !== this.opts.apiKey) return void res.writeHead(401).end();
      if (req.url !== '/api/publish') return void res.writeHead(404).end();
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { channel: string; data: unknown };
      this.broadcast(body.channel, JSON.stringify(body.data));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{}}');
    });
  }
}
