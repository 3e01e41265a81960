// Shared by the benchmark peers (ws-bare, socketio): command-line flags and the HTTP publish endpoint
// (POST /api/publish, X-API-Key, body {"channel": "...", "data": <json>}, answer {"result":{}}), as in
// Centrifugo's HTTP API (see centrifugo-wire-trace.md).
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface PeerFlags {
  readonly host: string;
  readonly port: number;
  readonly apiKey: string;
  /** Server ping interval in seconds. */
  readonly pingSec: number;
}

export function parsePeerFlags(argv: readonly string[]): PeerFlags {
  const get = (name: string, dflt: string): string => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? argv[i + 1] : undefined;
    return v ?? dflt;
  };
  const port = Number(get('port', '0'));
  const pingSec = Number(get('ping', '25'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${get('port', '')}`);
  if (!Number.isFinite(pingSec) || pingSec <= 0) throw new Error(`bad --ping ${get('ping', '')}`);
  return { host: get('host', '127.0.0.1'), port, apiKey: get('api-key', 'key'), pingSec };
}

export interface PublishRequest {
  readonly channel: string;
  /** The "data" member, re-serialised once (JSON text). */
  readonly dataJson: string;
  /** The parsed "data" member (for Socket.IO, which serialises itself). */
  readonly data: unknown;
}

const MAX_BODY = 1 << 20;

/** Validates an API publish body; null when it is not {"channel": non-empty string, "data": any JSON}. */
export function parsePublishBody(body: string): PublishRequest | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const rec = parsed as Record<string, unknown>;
  const channel = rec['channel'];
  if (typeof channel !== 'string' || channel === '' || !('data' in rec)) return null;
  return { channel, data: rec['data'], dataJson: JSON.stringify(rec['data']) };
}

const RESULT_OK = '{"result":{}}';
const RESULT_BAD = '{"error":{"code":107,"message":"bad request"}}';

/**
 * Handles POST /api/publish; returns false when the request is for another path (caller answers 404).
 * Auth failures get 401 with an empty body, bad bodies 200 + error 107, as Centrifugo does.
 */
export function handlePublish(
  req: IncomingMessage,
  res: ServerResponse,
  apiKey: string,
  onPublish: (p: PublishRequest) => void,
): boolean {
  if (req.url !== '/api/publish' && req.url !== '/api/publish/') return false;
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return true;
  }
  if (req.headers['x-api-key'] !== apiKey) {
    res.writeHead(401).end();
    req.resume();
    return true;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    const p = parsePublishBody(Buffer.concat(chunks).toString('utf8'));
    res.setHeader('Content-Type', 'application/json');
    if (p === null) {
      res.end(RESULT_BAD);
      return;
    }
    onPublish(p);
    res.end(RESULT_OK);
  });
  return true;
}

/** Stops the peer on SIGTERM/SIGINT: runs close() once, exits after at most 3 s. */
export function exitOnSignals(close: () => Promise<void>): void {
  let closing = false;
  const onSignal = (): void => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 3000).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
