// Scripted raw-protocol session for wire traces: raw `ws` clients (JSON protocol) plus raw HTTP API calls,
// every frame in both directions recorded in script order. Used by test/compat/wire-trace.test.ts to run the
// same script against real Centrifugo and Gyre. No SDK: what is recorded is exactly what crossed the wire.
import WebSocket from 'ws';
import { sleep } from './wait.js';

export type TraceEntry =
  | { op: 'open'; conn: string; error?: string }
  | { op: 'send'; conn: string; msgs: unknown[] }
  | { op: 'send-raw'; conn: string; text: string }
  | { op: 'recv'; conn: string; msgs: unknown[]; frames: number[] }
  | { op: 'close'; conn: string; code: number; reason: string }
  | {
      op: 'http';
      path: string;
      headers: Record<string, string>;
      body: unknown;
      status: number;
      contentType: string;
      response: unknown;
    };

export interface Target {
  /** ws://host:port/connection/websocket */
  url: string;
  /** http://host:port/api */
  apiUrl: string;
  apiKey: string;
}

interface Inbound {
  msg: unknown;
  /** Index of the WebSocket frame the message came in (messages of one frame share it). */
  frame: number;
}

class Conn {
  readonly queue: Inbound[] = [];
  closed: { code: number; reason: string } | undefined;
  closeRecorded = false;
  frames = 0;
  private wake: (() => void) | undefined;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = this.frames++;
      const text = data.toString('utf8');
      for (const line of text.split('\n')) {
        let msg: unknown = isBinary ? `<binary ${data.length} bytes>` : line;
        if (!isBinary) {
          try {
            msg = JSON.parse(line) as unknown;
          } catch {
            msg = `<unparsable ${JSON.stringify(line.slice(0, 80))}>`;
          }
        }
        this.queue.push({ msg, frame });
        if (isBinary) break;
      }
      this.poke();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.poke();
    });
    ws.on('error', () => {
      /* surfaced as close */
    });
  }
  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  /** Waits until `pred()` holds or `ms` passes (bounded: one timer, woken by traffic). */
  async until(pred: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (let i = 0; i < 10_000 && !pred(); i++) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}

export class WireDriver {
  readonly trace: TraceEntry[] = [];
  private readonly conns = new Map<string, Conn>();
  constructor(private readonly target: Target) {}

  private conn(name: string): Conn {
    const c = this.conns.get(name);
    if (c === undefined) throw new Error(`no connection ${name}`);
    return c;
  }

  async open(name: string, query = ''): Promise<void> {
    const ws = new WebSocket(this.target.url + query, { perMessageDeflate: false });
    const c = new Conn(ws);
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('open timeout')), 3000);
        ws.once('open', () => {
          clearTimeout(t);
          resolve();
        });
        ws.once('unexpected-response', (_req, res) => {
          clearTimeout(t);
          reject(new Error(`HTTP ${res.statusCode ?? 0}`));
        });
        ws.once('error', (err) => {
          clearTimeout(t);
          reject(err);
        });
      });
      this.conns.set(name, c);
      this.trace.push({ op: 'open', conn: name });
    } catch (err) {
      ws.terminate();
      this.trace.push({ op: 'open', conn: name, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Sends commands as one frame (newline-joined JSON). */
  send(name: string, ...cmds: unknown[]): void {
    this.trace.push({ op: 'send', conn: name, msgs: cmds });
    this.conn(name).ws.send(cmds.map((c) => JSON.stringify(c)).join('\n'));
  }

  /** Sends a raw text frame; `label` replaces the text in the trace (e.g. for oversized frames). */
  sendRaw(name: string, text: string, label?: string): void {
    this.trace.push({ op: 'send-raw', conn: name, text: label ?? text });
    this.conn(name).ws.send(text);
  }

  /** Records the next `n` messages of `name` (fewer if it closes or `ms` passes first). */
  async recv(name: string, n: number, ms = 1500): Promise<unknown[]> {
    const c = this.conn(name);
    await c.until(() => c.queue.length >= n || c.closed !== undefined, ms);
    const got = c.queue.splice(0, n);
    if (got.length > 0) this.recordRecv(name, got);
    return got.map((g) => g.msg);
  }

  /** Waits for the server to close `name` and records the close code and reason (after any unread messages). */
  async closed(name: string, ms = 3000): Promise<void> {
    const c = this.conn(name);
    await c.until(() => c.closed !== undefined, ms);
    this.flushQueue(name, c);
    this.recordClose(name, c);
  }

  private flushQueue(name: string, c: Conn): void {
    if (c.queue.length > 0) this.recordRecv(name, c.queue.splice(0));
  }

  private recordClose(name: string, c: Conn): void {
    if (c.closeRecorded) return;
    c.closeRecorded = true;
    const cl = c.closed ?? { code: -1, reason: '<still open>' };
    this.trace.push({ op: 'close', conn: name, code: cl.code, reason: cl.reason });
  }

  private recordRecv(name: string, got: Inbound[]): void {
    const frames: number[] = [];
    let last = -1;
    for (const g of got) {
      if (g.frame !== last) frames.push(0);
      last = g.frame;
      frames[frames.length - 1] = (frames[frames.length - 1] ?? 0) + 1;
    }
    this.trace.push({ op: 'recv', conn: name, msgs: got.map((g) => g.msg), frames });
  }

  /** POST /api/<method> (or `opts.path`); records request, status, content type and body. */
  async api(
    method: string,
    body: unknown,
    opts: { headers?: Record<string, string>; raw?: string; httpMethod?: string; noKey?: boolean } = {},
  ): Promise<unknown> {
    const headers: Record<string, string> = { ...(opts.noKey === true ? {} : { 'X-API-Key': this.target.apiKey }) };
    Object.assign(headers, opts.headers);
    const path = method === '' ? '' : `/${method}`;
    const res = await fetch(this.target.apiUrl + path, {
      method: opts.httpMethod ?? 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      ...(opts.httpMethod === 'GET' ? {} : { body: opts.raw ?? JSON.stringify(body) }),
      signal: AbortSignal.timeout(3000),
    });
    const text = await res.text();
    let response: unknown = text;
    try {
      response = JSON.parse(text) as unknown;
    } catch {
      /* keep text */
    }
    const recordedHeaders = { ...headers };
    if (recordedHeaders['X-API-Key'] === this.target.apiKey) recordedHeaders['X-API-Key'] = '<key>';
    this.trace.push({
      op: 'http',
      path: `/api${path}`,
      headers: recordedHeaders,
      body: opts.raw ?? body,
      status: res.status,
      contentType: (res.headers.get('content-type') ?? '').split(';')[0] ?? '',
      response,
    });
    return response;
  }

  /** Unread messages and unexpected closes are recorded, then every connection is closed by the client. */
  async finish(quietMs = 150): Promise<void> {
    await sleep(quietMs);
    for (const [name, c] of this.conns) {
      this.flushQueue(name, c);
      if (c.closed !== undefined) this.recordClose(name, c);
      c.ws.removeAllListeners('message');
      if (c.closed === undefined) {
        c.ws.close(1000);
        await c.until(() => c.closed !== undefined, 1000);
        if (c.closed === undefined) c.ws.terminate();
      }
    }
    this.conns.clear();
  }

  /** Hard-closes everything without recording (error path cleanup). */
  destroy(): void {
    for (const c of this.conns.values()) c.ws.terminate();
    this.conns.clear();
  }
}
