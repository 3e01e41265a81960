// permessage-deflate on websocket and uni_websocket (compression, compression_min_size, compression_level;
// docs/transports.md), read off the wire: a raw TCP client offers the extension (server_no_context_takeover, so
// every message inflates on its own), and each frame's RSV1 bit says whether the server compressed it. A message
// below compression_min_size goes uncompressed, a bigger one compressed and inflating to the same JSON; level 0
// stores instead of compressing (not smaller), level 9 shrinks a repetitive payload; compression off answers
// without the extension and never sets RSV1.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { constants as zlib, inflateRawSync } from 'node:zlib';
import { API_KEY, callApi } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken, TEST_HMAC_SECRET } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';

interface Frame {
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
  /** The message text (inflated when rsv1). */
  text: string;
}

interface RawWs {
  extensions: string;
  frames: Frame[];
  send(text: string): void;
  close(): void;
}

const OFFER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';

function parse(buf: Buffer, out: Frame[]): Buffer {
  let rest = buf;
  while (rest.length >= 2) {
    let len = rest[1]! & 0x7f;
    let at = 2;
    if (len === 126) {
      if (rest.length < 4) break;
      len = rest.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (rest.length < 10) break;
      len = Number(rest.readBigUInt64BE(2));
      at = 10;
    }
    if (rest.length < at + len) break;
    const payload = rest.subarray(at, at + len);
    const rsv1 = (rest[0]! & 0x40) !== 0;
    const text = (rsv1 ? inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.Z_SYNC_FLUSH }) : payload).toString();
    out.push({ rsv1, opcode: rest[0]! & 0x0f, payload: Buffer.from(payload), text });
    rest = rest.subarray(at + len);
  }
  return rest;
}

/** A client text frame (masked, uncompressed). */
function clientFrame(text: string): Buffer {
  const data = Buffer.from(text);
  const mask = randomBytes(4);
  const head = data.length < 126 ? Buffer.from([0x81, 0x80 | data.length]) : Buffer.from([0x81, 0x80 | 126, data.length >> 8, data.length & 0xff]);
  const body = Buffer.from(data.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}

function open(port: number, path: string): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const frames: Frame[] = [];
    let buf = Buffer.alloc(0);
    let upgraded = false;
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head.split('\r\n')[0]));
        upgraded = true;
        const ext = /^sec-websocket-extensions: *(.*)$/im.exec(head)?.[1] ?? '';
        resolve({
          extensions: ext,
          frames,
          send: (text) => socket.write(clientFrame(text)),
          close: () => socket.destroy(),
        });
      }
      buf = Buffer.from(parse(buf, frames));
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Extensions: ${OFFER}\r\n\r\n`,
    );
  });
}

const SMALL = { s: 'x' };
const BIG = { b: 'compress me please '.repeat(40) };

function config(compression: Record<string, unknown>): Record<string, unknown> {
  return {
    log: { level: 'warn' },
    http_api: { key: API_KEY },
    health: { enabled: true },
    client: { insecure: true, token: { hmac_secret_key: TEST_HMAC_SECRET } },
    websocket: compression,
    uni_websocket: { enabled: true, ...compression },
  };
}

/** A publication push's data: wrapped in `push` on websocket, bare on uni_websocket. */
function pubData(f: Frame): unknown {
  const m = JSON.parse(f.text) as { push?: { pub: { data: unknown } }; pub?: { data: unknown } };
  return (m.push?.pub ?? m.pub)?.data;
}

/** The publication frames of channel `ch` (text that carries a pub for it). */
const pubFrames = (ws: RawWs, ch: string): Frame[] => ws.frames.filter((f) => f.text.includes(`"channel":"${ch}"`) && f.text.includes('"pub"'));

describe('websocket permessage-deflate keys', () => {
  let gyre9: GyreProcess;
  let gyre0: GyreProcess;
  let off: GyreProcess;
  const sockets: RawWs[] = [];

  before(async () => {
    [gyre9, gyre0, off] = await Promise.all([
      startGyre(config({ compression: true, compression_min_size: 200, compression_level: 9 })),
      startGyre(config({ compression: true, compression_level: 0 })),
      startGyre(config({ compression: false })),
    ]);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await Promise.all([gyre9?.stop(), gyre0?.stop(), off?.stop()]);
  });

  /** A bidirectional client subscribed to `ch`, then a small and a big publication; their frames. */
  async function bidirectional(g: GyreProcess, ch: string): Promise<{ ws: RawWs; small: Frame; big: Frame }> {
    const ws = await open(g.port, '/connection/websocket');
    sockets.push(ws);
    ws.send(JSON.stringify({ id: 1, connect: {} }));
    ws.send(JSON.stringify({ id: 2, subscribe: { channel: ch } }));
    await waitFor(() => ws.frames.some((f) => f.text.includes('"id":2')), { what: 'subscribe reply' });
    return { ws, ...(await publishBoth(g, ws, ch)) };
  }

  async function uni(g: GyreProcess, ch: string): Promise<{ ws: RawWs; small: Frame; big: Frame }> {
    // A server-side subscription from the token's channels claim.
    const token = await connToken({ sub: 'u', channels: [ch] });
    const ws = await open(g.port, `/connection/uni_websocket?cf_connect=${encodeURIComponent(JSON.stringify({ token }))}`);
    sockets.push(ws);
    await waitFor(() => ws.frames.some((f) => f.text.includes('"connect"')), { what: 'connect push' });
    return { ws, ...(await publishBoth(g, ws, ch)) };
  }

  async function publishBoth(g: GyreProcess, ws: RawWs, ch: string): Promise<{ small: Frame; big: Frame }> {
    await callApi(g.apiUrl, 'publish', { channel: ch, data: SMALL });
    await callApi(g.apiUrl, 'publish', { channel: ch, data: BIG });
    const [small, big] = await waitFor(() => {
      const f = pubFrames(ws, ch);
      return f.length === 2 ? f : undefined;
    }, { what: `two publications on ${ch}` });
    assert.deepEqual(pubData(small!), SMALL);
    assert.deepEqual(pubData(big!), BIG);
    return { small: small!, big: big! };
  }

  for (const kind of ['websocket', 'uni_websocket'] as const) {
    const run = kind === 'websocket' ? bidirectional : uni;

    it(`${kind}: below compression_min_size uncompressed, above compressed at level 9`, async () => {
      const { ws, small, big } = await run(gyre9, `${kind}-9`);
      assert.match(ws.extensions, /permessage-deflate/);
      assert.equal(small.rsv1, false);
      assert.equal(big.rsv1, true);
      assert.ok(big.payload.length * 4 < big.text.length, `level 9: ${big.payload.length} of ${big.text.length}`);
    });

    it(`${kind}: min size 0 compresses every message; level 0 does not shrink`, async () => {
      const { small, big } = await run(gyre0, `${kind}-0`);
      assert.equal(small.rsv1, true);
      assert.equal(big.rsv1, true);
      assert.ok(big.payload.length >= big.text.length, `level 0: ${big.payload.length} of ${big.text.length}`);
    });

    it(`${kind}: compression off answers without the extension`, async () => {
      const { ws, small, big } = await run(off, `${kind}-off`);
      assert.equal(ws.extensions, '');
      assert.ok(!small.rsv1 && !big.rsv1);
      assert.ok(ws.frames.every((f) => !f.rsv1));
    });
  }
});
