// Raw-socket helpers for the storm tests: an upgrade probe that reports exactly what came back (status,
// Retry-After, time to answer, or a reset / a hang), a metric reader, and a readiness poller.
import { connect } from 'node:net';
import type { RawWsHandler } from '../../loadtest/src/raw-ws.js';

export interface ProbeResult {
  /** HTTP status, or 'reset' (ECONNRESET / closed without an answer) or 'hang' (no answer within the limit). */
  outcome: number | 'reset' | 'hang';
  retryAfter: string | undefined;
  body: string;
  /** From connect() to the answer (or the reset / the limit). */
  ms: number;
  /** From connect() to the TCP handshake's completion ('connect' event), NaN if it never completed. */
  connectedMs: number;
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export interface ProbeOptions {
  /** Source address (127.0.0.x) of the connection. */
  localAddress?: string;
  /**
   * Sent once a 101 came (a masked frame with a connect command): the probe then ends at the first byte the
   * server sends back, so an admitted client costs the server a whole connect, as a real one does.
   */
  afterUpgrade?: Buffer;
}

/** Sends one WebSocket upgrade to `port` and resolves with the answer's head (the socket is then destroyed). */
export function probeUpgrade(port: number, path = '/connection/websocket', limitMs = 5000, opts: ProbeOptions = {}): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = connect({ host: '127.0.0.1', port, ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }) });
    let upgradedAt = -1;
    let buf = Buffer.alloc(0);
    let done = false;
    let connectedMs = NaN;
    const finish = (outcome: ProbeResult['outcome'], text = ''): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const retry = /\r\nretry-after:\s*([^\r]*)/i.exec(text)?.[1];
      const bodyAt = text.indexOf('\r\n\r\n');
      resolve({ outcome, retryAfter: retry, body: bodyAt === -1 ? '' : text.slice(bodyAt + 4), ms: performance.now() - t0, connectedMs });
    };
    const timer = setTimeout(() => finish('hang'), limitMs);
    s.on('connect', () => {
      connectedMs = performance.now() - t0;
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (upgradedAt >= 0) {
        if (buf.length > upgradedAt) finish(101, buf.toString('latin1', 0, upgradedAt));
        return;
      }
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      if (status === 101 && opts.afterUpgrade !== undefined) {
        upgradedAt = end + 4;
        s.write(opts.afterUpgrade);
        if (buf.length > upgradedAt) finish(101, text.slice(0, upgradedAt));
        return;
      }
      if (status === 101) return finish(101, text);
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
      if (buf.length >= end + 4 + len) finish(status, text);
    });
    s.on('error', () => finish('reset', buf.toString('latin1')));
    s.on('close', () => finish(buf.length > 0 ? Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.toString('latin1'))?.[1] ?? 0) : 'reset', buf.toString('latin1')));
  });
}

/** Value of one Prometheus sample (`name{labels}`) from a /metrics text; 0 when absent. */
export function metricValue(text: string, name: string, labels = ''): number {
  const want = labels === '' ? name : `${name}{${labels}}`;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${want} `)) return Number(line.slice(want.length + 1));
  }
  return 0;
}

export async function scrape(baseUrl: string): Promise<string> {
  const r = await fetch(`${baseUrl}/metrics`);
  return r.text();
}

/** centrifugo_client_connections_accepted summed over its labels (connections a node took). */
export async function acceptedConnections(baseUrl: string): Promise<number> {
  let sum = 0;
  for (const line of (await scrape(baseUrl)).split('\n')) {
    if (line.startsWith('centrifugo_client_connections_accepted{')) sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** A raw client of the drain checks: connected once its connect reply came, then how and when it was closed. */
export interface DrainClient {
  connected: boolean;
  closedAt: number;
  code: number;
  reason: string;
}

/** Handler for RawWebSockets that send `connectCmd` on open and note their close (test/storm/drain.test.ts). */
export function drainClientHandler(connectCmd: string): RawWsHandler<DrainClient> {
  return {
    onOpen: (ws) => void ws.send(connectCmd),
    onMessage(ws, data) {
      if (data.toString('utf8').includes('"connect"')) ws.ctx.connected = true;
    },
    onError: () => undefined,
    onClose(ws, code, reason) {
      ws.ctx.closedAt = performance.now();
      ws.ctx.code = code;
      ws.ctx.reason = reason;
    },
  };
}
