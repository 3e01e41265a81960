// permessage-deflate through the main port's front (http/front.ts): with websocket.compression off the
// front answers every upgrade itself and ignores the offer; with it on, a deflate offer is handed back to the
// http.Server and negotiated by ws.handleUpgrade, while an upgrade without the offer stays on the front.
// Everything runs against the real server from startServer (memory engine, one port).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { constants as zlib, inflateRawSync } from 'node:zlib';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { startServer } from '../../../src/app.js';
import type { RunningServer } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config/index.js';
import type { GyreConfig } from '../../../src/config/types.js';
import { joinDelimited, splitDelimited } from '../../../src/protocol/framing.js';
import { centrifugal as generated } from '../../../src/protocol/gen/client.js';
import type { centrifugal } from '../../../src/protocol/gen/client-types.js';
import { waitFor, withTimeout } from '../../harness/wait.js';

const pb = (generated as unknown as typeof centrifugal).centrifuge.protocol;
const API_KEY = 'front-deflate-key';
const PATH = '/connection/websocket';
/** Well above the server's compression_min_size (256 here) and ws's 1024-byte client threshold. */
const BIG_TEXT = 'deflate me '.repeat(600);

function config(compression: boolean): GyreConfig {
  const c = defaultConfig();
  c.http_server.address = '127.0.0.1';
  c.http_server.port = 0;
  c.http_server.internal_port = 0;
  c.http_api.key = API_KEY;
  c.health.enabled = true;
  c.websocket.compression = compression;
  // Small replies stay uncompressed (Centrifugo's default 0 would compress every message).
  c.websocket.compression_min_size = 256;
  c.client.allow_anonymous_connect_without_token = true;
  const o = c.channel.without_namespace;
  o.allow_subscribe_for_client = true;
  o.allow_subscribe_for_anonymous = true;
  o.allow_publish_for_client = true;
  o.allow_publish_for_anonymous = true;
  c.shutdown.timeout = 2000;
  return c;
}

function start(compression: boolean): Promise<RunningServer> {
  return startServer(config(compression), { logger: pino({ level: 'silent' }) });
}

interface Opened {
  ws: WebSocket;
  /** Headers of the 101 answer as the client saw them. */
  upgrade: IncomingMessage['headers'];
}

/** Opens a `ws` client (it offers permessage-deflate unless told not to). */
function open(port: number, opts: { deflate?: boolean; protocols?: string[] } = {}): Promise<Opened> {
  return withTimeout(
    new Promise<Opened>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${PATH}`, opts.protocols, {
        perMessageDeflate: opts.deflate ?? true,
      });
      let headers: IncomingMessage['headers'] = {};
      ws.once('upgrade', (res) => (headers = res.headers));
      ws.once('open', () => resolve({ ws, upgrade: headers }));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        ws.terminate();
        reject(new Error(`upgrade refused with HTTP ${res.statusCode ?? 0}`));
      });
      ws.once('error', reject);
    }),
    5000,
    'websocket open',
  );
}

/** Every JSON reply/push a client receives, in order (frames may carry several newline-joined messages). */
function collectJson(ws: WebSocket): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  ws.on('message', (data, isBinary) => {
    assert.equal(isBinary, false, 'JSON protocol uses text frames');
    for (const line of (data as Buffer).toString().split('\n')) {
      if (line !== '') out.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  return out;
}

function reply(lines: readonly Record<string, unknown>[], id: number): Promise<Record<string, unknown>> {
  return waitFor(() => lines.find((m) => m['id'] === id), { what: `reply ${id}`, timeoutMs: 5000 });
}

function pushOn(lines: readonly Record<string, unknown>[], channel: string, nth = 0): Promise<{ pub: { data: unknown } }> {
  return waitFor(
    () => {
      const pushes = lines.filter((m) => (m['push'] as { channel?: string } | undefined)?.channel === channel);
      return pushes[nth]?.['push'] as { pub: { data: unknown } } | undefined;
    },
    { what: `push ${nth} on ${channel}`, timeoutMs: 5000 },
  );
}

async function apiPublish(port: number, channel: string, data: unknown): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY },
    body: JSON.stringify({ channel, data }),
  });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), '{"result":{}}');
}

/**
 * JSON client round trip: connect, subscribe, then a large client publish (client → server frame well over
 * the thresholds) and a large API publish, both of which must come back intact as pushes.
 */
async function jsonRoundTrip(port: number, ws: WebSocket, channel: string): Promise<void> {
  const lines = collectJson(ws);
  ws.send(`{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"${channel}"}}`);
  const connected = await reply(lines, 1);
  assert.equal(typeof (connected['connect'] as { client?: unknown } | undefined)?.client, 'string', JSON.stringify(connected));
  const subscribed = await reply(lines, 2);
  assert.ok('subscribe' in subscribed, JSON.stringify(subscribed));

  const fromClient = { text: BIG_TEXT, n: 1 };
  const cmd = JSON.stringify({ id: 3, publish: { channel, data: fromClient } });
  assert.ok(cmd.length > 4096);
  ws.send(cmd);
  const published = await reply(lines, 3);
  assert.ok('publish' in published, JSON.stringify(published));
  assert.deepEqual((await pushOn(lines, channel, 0)).pub.data, fromClient);

  const fromApi = { text: BIG_TEXT, n: 2 };
  await apiPublish(port, channel, fromApi);
  assert.deepEqual((await pushOn(lines, channel, 1)).pub.data, fromApi);
}

function closeClient(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  const done = withTimeout(new Promise<void>((r) => ws.once('close', () => r())), 5000, 'client close');
  ws.close();
  return done;
}

// ---- A raw RFC 6455 client: shows the 101 head verbatim and the RSV1 bit of every server frame. ----

interface RawFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  /** The bytes on the wire (compressed when rsv1 is set). */
  payload: Buffer;
  /** The message text: the payload, inflated when rsv1 is set. */
  text: string;
}

const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Inflates permessage-deflate messages in order (RFC 7692 §7.2.2: raw deflate, the trailing empty stored block
 * removed). With context takeover each message may refer back to earlier ones, so the whole stream so far is
 * inflated again each time and the new suffix is the message (fine for the few messages of a test).
 */
class MessageInflater {
  private stream = Buffer.alloc(0);
  private produced = 0;

  inflate(payload: Buffer): string {
    this.stream = Buffer.concat([this.stream, payload, DEFLATE_TAIL]);
    const all = inflateRawSync(this.stream, { finishFlush: zlib.Z_SYNC_FLUSH });
    const out = all.subarray(this.produced).toString();
    this.produced = all.length;
    return out;
  }
}

class RawClient {
  private buf = Buffer.alloc(0);
  private headText: string | undefined = undefined;
  private readonly frames: RawFrame[] = [];
  private readonly inflater = new MessageInflater();
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => {});
  }

  static async open(port: number, headers: Record<string, string>): Promise<RawClient> {
    const sock = netConnect(port, '127.0.0.1');
    await withTimeout(new Promise<void>((r, j) => sock.once('connect', r).once('error', j)), 5000, 'tcp connect');
    const c = new RawClient(sock);
    let head = `GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
    head += `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    sock.write(`${head}\r\n`);
    await waitFor(() => c.headText !== undefined || sock.destroyed, { what: 'response head', timeoutMs: 5000 });
    return c;
  }

  /** The response head (status line and headers), without the blank line. */
  get head(): string {
    return this.headText ?? '';
  }

  get status(): number {
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(this.head)?.[1] ?? 0);
  }

  header(name: string): string | undefined {
    const re = new RegExp(`^${name}:\\s*(.*)$`, 'im');
    return re.exec(this.head)?.[1]?.trim();
  }

  /** The first server frame for which `pick` holds (frames before it stay queued). */
  frame(pick: (f: RawFrame) => boolean, what: string): Promise<RawFrame> {
    return waitFor(() => this.frames.find(pick), { what, timeoutMs: 5000 });
  }

  /** One masked, final, uncompressed text frame (RSV1 clear is valid even when deflate was negotiated). */
  sendText(text: string): void {
    const payload = Buffer.from(text);
    const len = payload.length;
    const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
    const out = Buffer.alloc(2 + ext + 4 + len);
    out[0] = 0x81;
    if (ext === 0) out[1] = 0x80 | len;
    else if (ext === 2) {
      out[1] = 0x80 | 126;
      out.writeUInt16BE(len, 2);
    } else {
      out[1] = 0x80 | 127;
      out.writeBigUInt64BE(BigInt(len), 2);
    }
    const mask = randomBytes(4);
    mask.copy(out, 2 + ext);
    for (let i = 0; i < len; i++) out[2 + ext + 4 + i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
    this.sock.write(out);
  }

  destroy(): void {
    this.sock.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (this.headText === undefined) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.headText = this.buf.toString('latin1', 0, end);
      this.buf = this.buf.subarray(end + 4);
    }
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0] ?? 0;
      const b1 = this.buf[1] ?? 0;
      assert.equal(b1 & 0x80, 0, 'server frames are not masked');
      let len = b1 & 0x7f;
      let pos = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        pos = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        pos = 10;
      }
      if (this.buf.length < pos + len) return;
      const rsv1 = (b0 & 0x40) !== 0;
      const payload = Buffer.from(this.buf.subarray(pos, pos + len));
      this.frames.push({
        fin: (b0 & 0x80) !== 0,
        rsv1,
        opcode: b0 & 0x0f,
        payload,
        text: rsv1 ? this.inflater.inflate(payload) : payload.toString(),
      });
      this.buf = this.buf.subarray(pos + len);
    }
  }
}

/** What a ws client offers by default. */
const WS_OFFER = 'permessage-deflate; client_max_window_bits';
/** An offer asking the server to compress each message on its own (then ws applies its size threshold). */
const NO_TAKEOVER_OFFER = 'permessage-deflate; server_no_context_takeover; client_max_window_bits';

/** Connect + subscribe over a raw client, then a large API publish; returns the frame carrying the push. */
async function rawPushFrame(port: number, c: RawClient, channel: string, data: unknown): Promise<RawFrame> {
  c.sendText(`{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"${channel}"}}`);
  // The two replies may share one frame; wait for the one carrying the subscribe reply.
  await c.frame((f) => f.text.includes('"id":2'), 'subscribe reply frame');
  await apiPublish(port, channel, data);
  return c.frame((f) => f.text.includes('"push"'), 'push frame');
}

// ---------------------------------------------------------------------------------------------------------

describe('front, websocket.compression off (default), client offers permessage-deflate', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await start(false);
  });
  after(async () => {
    await srv.close();
  });

  it('answers 101 without Sec-WebSocket-Extensions; connect, subscribe and large frames both ways work', async () => {
    const { ws, upgrade } = await open(srv.port);
    try {
      assert.equal(upgrade['sec-websocket-extensions'], undefined);
      assert.equal(ws.extensions, '');
      await jsonRoundTrip(srv.port, ws, 'off-json');
    } finally {
      await closeClient(ws);
    }
  });

  it('sends large frames uncompressed (RSV1 clear) to a raw client that offered deflate', async () => {
    const c = await RawClient.open(srv.port, { 'Sec-WebSocket-Extensions': WS_OFFER });
    try {
      assert.equal(c.status, 101, c.head);
      assert.equal(c.header('Sec-WebSocket-Extensions'), undefined, c.head);
      const data = { text: BIG_TEXT };
      const f = await rawPushFrame(srv.port, c, 'off-raw', data);
      assert.equal(f.rsv1, false);
      assert.equal(f.opcode, 1);
      const push = JSON.parse(f.text) as { push: { pub: { data: unknown } } };
      assert.deepEqual(push.push.pub.data, data);
    } finally {
      c.destroy();
    }
  });

  it('ignores a malformed extension offer, as ws does with compression off', async () => {
    const c = await RawClient.open(srv.port, { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_max_window_bits=x' });
    try {
      assert.equal(c.status, 101, c.head);
      assert.equal(c.header('Sec-WebSocket-Extensions'), undefined, c.head);
    } finally {
      c.destroy();
    }
  });
});

describe('front, websocket.compression on', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await start(true);
  });
  after(async () => {
    await srv.close();
  });

  it('negotiates permessage-deflate with a ws client; connect, subscribe and large frames both ways work', async () => {
    const { ws, upgrade } = await open(srv.port);
    try {
      assert.match(upgrade['sec-websocket-extensions'] ?? '', /^permessage-deflate/);
      assert.match(ws.extensions, /^permessage-deflate/);
      await jsonRoundTrip(srv.port, ws, 'on-json');
    } finally {
      await closeClient(ws);
    }
  });

  for (const offer of [WS_OFFER, NO_TAKEOVER_OFFER]) {
    it(`compresses a large push (RSV1 set, inflates to the publication) for a raw client offering "${offer}"`, async () => {
      const c = await RawClient.open(srv.port, { 'Sec-WebSocket-Extensions': offer });
      try {
        assert.equal(c.status, 101, c.head);
        const accepted = c.header('Sec-WebSocket-Extensions') ?? '';
        assert.match(accepted, /^permessage-deflate/, c.head);
        assert.equal(accepted.includes('server_no_context_takeover'), offer === NO_TAKEOVER_OFFER, accepted);
        const data = { text: BIG_TEXT };
        const f = await rawPushFrame(srv.port, c, 'on-raw', data);
        assert.equal(f.rsv1, true, 'large push is compressed');
        assert.equal(f.fin, true);
        assert.equal(f.opcode, 1);
        assert.ok(f.payload.length < f.text.length / 4, `compressed ${f.payload.length} of ${f.text.length} bytes`);
        const push = JSON.parse(f.text) as { push: { channel: string; pub: { data: unknown } } };
        assert.equal(push.push.channel, 'on-raw');
        assert.deepEqual(push.push.pub.data, data);
        if (offer === NO_TAKEOVER_OFFER) {
          // Each message compressed on its own: ws then leaves messages under the 256-byte threshold as they are.
          const small = await c.frame((fr) => fr.text.includes('"id":2'), 'subscribe reply frame');
          assert.ok(small.payload.length < 256, `reply frame of ${small.payload.length} bytes`);
          assert.equal(small.rsv1, false, 'small reply is not compressed');
        }
      } finally {
        c.destroy();
      }
    });
  }

  it('answers a malformed extension offer with 101 and no compression, as Centrifugo does (ws alone: 400)', async () => {
    const c = await RawClient.open(srv.port, { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_max_window_bits=x' });
    try {
      assert.equal(c.status, 101, c.head);
      assert.equal(c.header('Sec-WebSocket-Extensions'), undefined, c.head);
    } finally {
      c.destroy();
    }
  });

  it('serves a client that does not offer deflate (front path): no extension, everything works', async () => {
    const { ws, upgrade } = await open(srv.port, { deflate: false });
    try {
      assert.equal(upgrade['sec-websocket-extensions'], undefined);
      assert.equal(ws.extensions, '');
      await jsonRoundTrip(srv.port, ws, 'on-nodeflate');
    } finally {
      await closeClient(ws);
    }
  });

  it('sends uncompressed frames to a raw client without an offer', async () => {
    const c = await RawClient.open(srv.port, {});
    try {
      assert.equal(c.status, 101, c.head);
      assert.equal(c.header('Sec-WebSocket-Extensions'), undefined, c.head);
      const data = { text: BIG_TEXT };
      const f = await rawPushFrame(srv.port, c, 'on-raw-plain', data);
      assert.equal(f.rsv1, false);
      const push = JSON.parse(f.text) as { push: { pub: { data: unknown } } };
      assert.deepEqual(push.push.pub.data, data);
    } finally {
      c.destroy();
    }
  });

  it('still serves plain HTTP on the same port: /health, the API, and 400 for a non-upgrade GET of the WS path', async () => {
    const h = await fetch(`http://127.0.0.1:${srv.port}/health`);
    assert.equal(h.status, 200);
    assert.equal(await h.text(), '{}');
    const info = await fetch(`http://127.0.0.1:${srv.port}/api/info`, {
      method: 'POST',
      headers: { 'X-API-Key': API_KEY },
      body: '{}',
    });
    assert.equal(info.status, 200);
    const body = (await info.json()) as { result: { nodes: unknown[] } };
    assert.equal(body.result.nodes.length, 1);
    const plain = await fetch(`http://127.0.0.1:${srv.port}${PATH}`);
    assert.equal(plain.status, 400);
    await plain.text();
    // And a deflate upgrade right after still works (the http.Server path is not left in a bad state).
    const { ws } = await open(srv.port);
    try {
      assert.match(ws.extensions, /^permessage-deflate/);
    } finally {
      await closeClient(ws);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

type Pb = typeof pb;

function pbFrame(cmd: Parameters<Pb['Command']['encode']>[0]): Uint8Array {
  return joinDelimited([pb.Command.encode(cmd).finish()]);
}

/** Every protobuf Reply a client receives, in order. */
function collectPb(ws: WebSocket): ReturnType<Pb['Reply']['decode']>[] {
  const out: ReturnType<Pb['Reply']['decode']>[] = [];
  ws.on('message', (data, isBinary) => {
    assert.equal(isBinary, true, 'protobuf protocol uses binary frames');
    const { messages, error } = splitDelimited(data as Buffer);
    assert.equal(error, undefined);
    for (const m of messages) out.push(pb.Reply.decode(m));
  });
  return out;
}

const PB_CASES = [
  { name: 'compression off, deflate offered (front)', compression: false, deflate: true, negotiated: false },
  { name: 'compression on, no deflate offer (front)', compression: true, deflate: false, negotiated: false },
  { name: 'compression on, deflate offered (ws.handleUpgrade)', compression: true, deflate: true, negotiated: true },
] as const;

describe('centrifuge-protobuf subprotocol through both paths', () => {
  for (const tc of PB_CASES) {
    it(`${tc.name}: echoed, binary connect reply, large publication intact`, async () => {
      const srv = await start(tc.compression);
      try {
        const { ws, upgrade } = await open(srv.port, { deflate: tc.deflate, protocols: ['centrifuge-protobuf'] });
        try {
          assert.equal(ws.protocol, 'centrifuge-protobuf');
          assert.equal(upgrade['sec-websocket-protocol'], 'centrifuge-protobuf');
          assert.equal(/^permessage-deflate/.test(ws.extensions), tc.negotiated);
          const replies = collectPb(ws);
          ws.send(pbFrame({ id: 1, connect: {} }));
          ws.send(pbFrame({ id: 2, subscribe: { channel: 'pb' } }));
          const connected = await waitFor(() => replies.find((r) => r.id === 1), { what: 'connect reply', timeoutMs: 5000 });
          assert.equal(connected.error, null, JSON.stringify(connected.error));
          assert.ok((connected.connect?.client ?? '') !== '', 'connect reply carries a client id');
          const subscribed = await waitFor(() => replies.find((r) => r.id === 2), { what: 'subscribe reply', timeoutMs: 5000 });
          assert.equal(subscribed.error, null, JSON.stringify(subscribed.error));

          const data = { text: BIG_TEXT };
          await apiPublish(srv.port, 'pb', data);
          const push = await waitFor(() => replies.find((r) => r.push?.pub != null)?.push ?? undefined, { what: 'publication push', timeoutMs: 5000 });
          assert.equal(push.channel, 'pb');
          assert.deepEqual(JSON.parse(Buffer.from(push.pub?.data ?? new Uint8Array()).toString()), data);
        } finally {
          await closeClient(ws);
        }
      } finally {
        await srv.close();
      }
    });
  }
});
