// Client-side helpers for end-to-end tests: a recording `ws` WebSocket for centrifuge-js (to see the exact frames
// the server wrote), a raw HTTP API caller, and a registry that closes every client a test created.
import { Centrifuge } from 'centrifuge';
import type { Options } from 'centrifuge';
import WebSocket from 'ws';
import type { ClientOptions, RawData } from 'ws';
import type { ClientRequestArgs } from 'node:http';
import { connToken } from './tokens.js';
import type { ConnClaims } from './tokens.js';
import { nextEvent } from './wait.js';

export const API_KEY = 'gyre-compat-api-key';

/** One server → client WebSocket message as received (text for JSON, bytes for protobuf). */
export interface RecordedFrame {
  socket: number;
  text: string;
  binary: Uint8Array | null;
}

export interface Recorder {
  /** Constructor to hand to centrifuge-js as `websocket`. */
  WebSocketClass: new (address: string, protocols?: string | string[]) => WebSocket;
  frames: RecordedFrame[];
  sockets: WebSocket[];
  /** Close events seen by the recorded sockets, in order. */
  closes: Array<{ socket: number; code: number; reason: string }>;
  /** Every JSON reply/push object received (frames split on `\n`, parsed). */
  messages(): unknown[];
}

function rawToBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data);
}

export function recorder(): Recorder {
  const frames: RecordedFrame[] = [];
  const sockets: WebSocket[] = [];
  const closes: Recorder['closes'] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[], options?: ClientOptions | ClientRequestArgs) {
      // One 'message' event per task, as a browser dispatches them. With ws's default (every frame of one socket
      // read in the same tick), centrifuge-js 5.7 can hand two frames' pushes to the application out of order
      // (docs/deploy.md §5): seen as [1, 3, 2] from a real Centrifugo in the stream-proxy test.
      super(address, protocols, { allowSynchronousEvents: false, ...options });
      const idx = sockets.length;
      sockets.push(this);
      this.on('message', (data: RawData, isBinary: boolean) => {
        const bytes = rawToBytes(data);
        frames.push({ socket: idx, text: isBinary ? '' : Buffer.from(bytes).toString('utf8'), binary: isBinary ? bytes : null });
      });
      this.on('close', (code: number, reason: Buffer) => {
        closes.push({ socket: idx, code, reason: reason.toString('utf8') });
      });
    }
  }
  return {
    WebSocketClass: RecordingWebSocket,
    frames,
    sockets,
    closes,
    messages: () =>
      frames
        .filter((f) => f.binary === null)
        .flatMap((f) => f.text.split('\n'))
        .map((line) => JSON.parse(line) as unknown),
  };
}

export interface TestClient {
  client: Centrifuge;
  rec: Recorder;
}

/** Tracks clients and raw sockets created by a test file so `closeAll()` can shut every one of them. */
export class ClientPool {
  private readonly clients: Centrifuge[] = [];
  private readonly raws: WebSocket[] = [];

  /** centrifuge-js (JSON) client with a recording socket and fast reconnects; not connected yet. */
  json(url: string, opts: Partial<Options> = {}): TestClient {
    const rec = recorder();
    const client = new Centrifuge(url, {
      websocket: rec.WebSocketClass,
      minReconnectDelay: 50,
      maxReconnectDelay: 300,
      timeout: 8000,
      ...opts,
    });
    this.clients.push(client);
    return { client, rec };
  }

  /** A JSON client connected with an HS256 token for `claims`; resolves with its client id once connected. */
  async connected(url: string, claims: ConnClaims): Promise<TestClient & { id: string }> {
    const tc = this.json(url, { token: await connToken(claims) });
    const p = nextEvent<{ client: string }>(tc.client, 'connected');
    tc.client.connect();
    return { ...tc, id: (await p).client };
  }

  track<C extends Centrifuge>(client: C): C {
    this.clients.push(client);
    return client;
  }

  raw(url: string, protocols?: string | string[]): WebSocket {
    const ws = new WebSocket(url, protocols);
    ws.on('error', () => {
      /* surfaced through close codes in tests */
    });
    this.raws.push(ws);
    return ws;
  }

  closeAll(): void {
    for (const c of this.clients) c.disconnect();
    for (const ws of this.raws) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    }
    this.clients.length = 0;
    this.raws.length = 0;
  }
}

export interface ApiResponse {
  status: number;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
  headers: Headers;
}

/** POSTs `body` to `<apiUrl>/<method>` (or to `apiUrl` itself when method is ''), authenticated by `X-API-Key`. */
export async function callApi(
  apiUrl: string,
  method: string,
  body: unknown,
  opts: { key?: string | null; headers?: Record<string, string>; rawBody?: string; httpMethod?: string; query?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...opts.headers };
  const key = opts.key === undefined ? API_KEY : opts.key;
  if (key !== null) headers['X-API-Key'] = key;
  const url = `${apiUrl}${method === '' ? '' : `/${method}`}${opts.query ?? ''}`;
  const httpMethod = opts.httpMethod ?? 'POST';
  const init: RequestInit = { method: httpMethod, headers, signal: AbortSignal.timeout(5000) };
  if (httpMethod !== 'GET' && httpMethod !== 'HEAD') init.body = opts.rawBody ?? JSON.stringify(body);
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, body: parsed, headers: res.headers };
}

/** Collects every emission of `event` into an array (for order and exactly-once checks). */
export function collect<T>(emitter: { on(event: string, l: (ctx: T) => void): unknown }, event: string): T[] {
  const out: T[] = [];
  emitter.on(event, (ctx: T) => {
    out.push(ctx);
  });
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The reply object with the given id among recorded JSON messages. */
export function replyWithId(rec: Recorder, id: number): Record<string, unknown> | undefined {
  for (const m of rec.messages()) if (isRecord(m) && m['id'] === id) return m;
  return undefined;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
