// Publishers for the fanout scenario: through the HTTP server API (protocol.md §6, POST /api/publish with
// X-API-Key) or through one client connection sending publish commands. Publications of one channel are
// kept in order: the HTTP publisher has at most one request in flight per channel (others queue), the
// client publisher uses one connection whose commands the server handles in order. The payload (with its
// `ts`) is built when the request is actually sent.
import http from 'node:http';
import { nowMs } from './clock.js';
import { firstFrame, LeanClient } from './lean-client.js';
import type { ClientSink } from './lean-client.js';

export interface PublishStats {
  sent: number;
  ok: number;
  failed: Record<string, number>;
}

export interface Publisher {
  readonly stats: PublishStats;
  /** Requests queued or in flight. */
  readonly inflight: number;
  publish(channel: string, seq: number): void;
  close(): Promise<void>;
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

export class HttpPublisher implements Publisher {
  readonly stats: PublishStats = { sent: 0, ok: 0, failed: {} };
  inflight = 0;
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly queues = new Map<string, number[]>();
  private readonly busy = new Set<string>();

  constructor(
    apiBase: string,
    private readonly apiKey: string | null,
    private readonly size: number,
    localAddress: string | undefined,
    maxSockets = 64,
  ) {
    this.url = new URL(apiBase.replace(/\/+$/, '') + '/publish');
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets,
      ...(localAddress !== undefined ? { localAddress } : {}),
    });
  }

  publish(channel: string, seq: number): void {
    this.inflight++;
    if (this.busy.has(channel)) {
      const q = this.queues.get(channel);
      if (q === undefined) this.queues.set(channel, [seq]);
      else q.push(seq);
      return;
    }
    this.send(channel, seq);
  }

  private next(channel: string): void {
    const q = this.queues.get(channel);
    const seq = q?.shift();
    if (seq === undefined) {
      this.busy.delete(channel);
      return;
    }
    this.send(channel, seq);
  }

  private send(channel: string, seq: number): void {
    this.busy.add(channel);
    const data = makePayload(seq, nowMs(), this.size);
    const body = `{"channel":${JSON.stringify(channel)},"data":${data}}`;
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (this.apiKey !== null) headers['x-api-key'] = this.apiKey;
    this.stats.sent++;
    let done = false;
    const finish = (cause: string | null): void => {
      if (done) return;
      done = true;
      this.inflight--;
      if (cause === null) this.stats.ok++;
      else bump(this.stats.failed, cause);
      this.next(channel);
    };
    const req = http.request(this.url, { method: 'POST', agent: this.agent, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return finish(`http_${res.statusCode ?? 0}`);
        const text = Buffer.concat(chunks).toString();
        const m = /"error"\s*:\s*\{[^}]*"code"\s*:\s*(\d+)/.exec(text);
        finish(m === null ? null : `error_${m[1] ?? '?'}`);
      });
      res.on('error', () => finish('response_error'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? (err.message === 'timeout' ? 'timeout' : 'error')));
    req.end(body);
  }

  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }
}

/** Publishes through a single client connection (`{"publish":{…},"id":n}`); needs publish permission. */
export class ClientPublisher implements Publisher, ClientSink {
  readonly stats: PublishStats = { sent: 0, ok: 0, failed: {} };
  inflight = 0;
  private nextId = 3;
  private readonly client: LeanClient;
  private ready: Promise<string | null>;
  private settle: (err: string | null) => void = () => undefined;

  constructor(
    url: string,
    localAddress: string | undefined,
    connectTimeoutMs: number,
    private readonly size: number,
  ) {
    this.client = new LeanClient(-1, null, { url, localAddress, connectTimeoutMs }, this);
    this.ready = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** Connects; resolves to an error cause or null. */
  connect(token: string | null): Promise<string | null> {
    this.client.open(firstFrame(token, null));
    return this.ready;
  }

  publish(channel: string, seq: number): void {
    const id = this.nextId++;
    const data = makePayload(seq, nowMs(), this.size);
    this.stats.sent++;
    if (!this.client.send(`{"publish":{"channel":${JSON.stringify(channel)},"data":${data}},"id":${id}}`)) {
      bump(this.stats.failed, 'not_connected');
      return;
    }
    this.inflight++;
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }

  onConnected(): void {
    /* the subscribed callback follows at once: no channel */
  }
  onSubscribed(): void {
    this.settle(null);
  }
  onFailure(_c: LeanClient, cause: string): void {
    this.settle(cause);
  }
  onDrop(_c: LeanClient, cause: string): void {
    bump(this.stats.failed, `drop_${cause}`);
  }
  onPublication(): void {
    /* not subscribed */
  }
  onPing(): void {
    /* answered by the client */
  }
  onReply(_c: LeanClient, _id: number, reply: Record<string, unknown>): void {
    this.inflight = Math.max(0, this.inflight - 1);
    const err = reply['error'];
    if (typeof err === 'object' && err !== null && 'code' in err) bump(this.stats.failed, `error_${String(err.code)}`);
    else this.stats.ok++;
  }
}

/** Builds `{"seq":n,"ts":t,"pad":"…"}` padded so the whole JSON text is about `size` bytes. */
export function makePayload(seq: number, ts: number, size: number): string {
  const head = `{"seq":${seq},"ts":${ts},"pad":"`;
  const padLen = Math.max(0, size - head.length - 2);
  return head + 'x'.repeat(padLen) + '"}';
}
