// Payload bytes are kept from ingress to every socket (docs/payloads.md): big integers, exponents, trailing
// zeros, unicode escapes, inner whitespace, top-level strings and numbers, nested arrays arrive exactly as
// published, through the HTTP API (publish, broadcast, batch, legacy POST /api), client publish, history
// (client and API), recovery, server-side subscriptions and API subscribe data, to JSON subscribers (raw
// frames observed) and protobuf subscribers (centrifuge-js protobuf build, bytes compared). Deep nesting:
// the API refuses more than 10000 levels with 400 (as Centrifugo/Go do), the client protocol does not limit it.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Centrifuge as PbCentrifuge } from 'centrifuge/build/protobuf';
import type { PublicationContext as PbPublicationContext } from 'centrifuge/build/protobuf';
import type { PublicationContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import WebSocket from 'ws';
import { API_KEY, callApi, ClientPool, collect, type TestClient } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken, TEST_HMAC_SECRET } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** [as published, as Go's encoding/json writes it in API responses (compact, HTML-escaped)]. */
const PAYLOADS: ReadonlyArray<readonly [string, string]> = [
  ['{"order_id":9007199254740993,"price":1.10,"e":1E3,"s":"\\u00e9"}', '{"order_id":9007199254740993,"price":1.10,"e":1E3,"s":"\\u00e9"}'],
  ['123456789012345678901234567890', '123456789012345678901234567890'],
  ['1e-7', '1e-7'],
  ['"\\ud83d\\ude00"', '"\\ud83d\\ude00"'],
  ['{ "a" : [ 1 , { "b" : [ ] } ] ,\t"c" : "x <&> y" }', '{"a":[1,{"b":[]}],"c":"x \\u003c\\u0026\\u003e y"}'],
  ['[[1,[2,[3.0]]],[],{"k":[-0.0]}]', '[[1,[2,[3.0]]],[],{"k":[-0.0]}]'],
  ['"top-level string é"', '"top-level string é"'],
  ['-12.50E+2', '-12.50E+2'],
];
const SENT = PAYLOADS.map(([p]) => p);

/** `"data":<payload>` followed by the next member or the end of the object: the payload's exact bytes. */
function carries(text: string, payload: string): boolean {
  return text.includes(`"data":${payload},`) || text.includes(`"data":${payload}}`);
}

/** A raw JSON-protocol WebSocket client: exact frames in, exact lines out. */
class RawConn {
  readonly frames: string[] = [];
  closed: { code: number; reason: string } | undefined;
  private nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.frames.push(data.toString('utf8')));
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
    });
    ws.on('error', () => {
      /* seen through `closed` */
    });
  }

  static async open(url: string, token: string): Promise<RawConn> {
    const ws = new WebSocket(url);
    await nextEvent(ws, 'open');
    const c = new RawConn(ws);
    await c.command(`"connect":{"token":"${token}"}`);
    return c;
  }

  /** Sends `{"id":N,<body>}` and resolves with the text of the reply line with that id. */
  async command(body: string): Promise<string> {
    const id = this.nextId++;
    this.ws.send(`{"id":${id},${body}}`);
    const prefix = `{"id":${id},`;
    return waitFor(() => this.lines().find((l) => l.startsWith(prefix)), { what: `reply ${id}` });
  }

  lines(): string[] {
    return this.frames.flatMap((f) => f.split('\n'));
  }

  /** Resolves once every payload was seen in a push for `channel`. */
  async pushesCarry(channel: string, payloads: readonly string[]): Promise<void> {
    const prefix = `{"push":{"channel":${JSON.stringify(channel)},`;
    await waitFor(
      () => {
        const pushes = this.lines().filter((l) => l.startsWith(prefix));
        return payloads.every((p) => pushes.some((l) => carries(l, p)));
      },
      { what: `pushes on ${channel} carrying every payload` },
    );
  }

  close(): void {
    this.ws.terminate();
  }
}

/** An HS256 connection token whose payload is exactly `payloadJson` (to put raw JSON in the `info` claim). */
function rawToken(payloadJson: string): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64url');
  const body = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(payloadJson)}`;
  return `${body}.${createHmac('sha256', TEST_HMAC_SECRET).update(body).digest('base64url')}`;
}

describe('compat: published payload bytes are kept on every path', () => {
  let gyre: GyreProcess;
  let cent: CentClient;
  const pool = new ClientPool();
  const raws: RawConn[] = [];
  const pbClients: PbCentrifuge[] = [];

  const rawConn = async (user: string, channels?: string[]): Promise<RawConn> => {
    const token = await connToken(channels === undefined ? { sub: user, expIn: 3600 } : { sub: user, expIn: 3600, channels });
    const c = await RawConn.open(gyre.url, token);
    raws.push(c);
    return c;
  };

  /** A protobuf centrifuge-js client subscribed to `channel`, collecting publications. */
  const pbSubscriber = async (user: string, channel: string): Promise<PbPublicationContext[]> => {
    const client = new PbCentrifuge(gyre.url, {
      websocket: WebSocket,
      token: await connToken({ sub: user, expIn: 3600 }),
      minReconnectDelay: 50,
    });
    pbClients.push(client);
    const sub = client.newSubscription(channel);
    const pubs = collect<PbPublicationContext>(sub, 'publication');
    const subscribed = nextEvent(sub, 'subscribed');
    sub.subscribe();
    client.connect();
    await subscribed;
    return pubs;
  };

  const pbGot = (pubs: PbPublicationContext[]): string[] =>
    pubs.map((p) => {
      assert.ok(p.data instanceof Uint8Array, 'protobuf publication data is bytes');
      return dec.decode(p.data);
    });

  before(async () => {
    gyre = await startGyre(baseConfig());
    cent = new CentClient({ url: gyre.apiUrl, apiKey: API_KEY });
  });
  after(async () => {
    for (const r of raws) r.close();
    for (const c of pbClients) c.disconnect();
    pool.closeAll();
    await gyre?.stop();
    assert.doesNotMatch(gyre?.stderr() ?? '', /RangeError/);
  });

  it('API publish: JSON subscribers get the bytes in the frame, protobuf subscribers get them as bytes', async () => {
    const channel = 'pres:fid-publish';
    const json = await rawConn('j1');
    await json.command(`"subscribe":{"channel":"${channel}"}`);
    const pb = await pbSubscriber('p1', channel);
    for (const p of SENT) {
      const res = await callApi(gyre.apiUrl, 'publish', undefined, { rawBody: `{"channel":"${channel}","data":${p}}` });
      assert.equal(res.status, 200, res.text);
    }
    await json.pushesCarry(channel, SENT);
    await waitFor(() => pb.length === SENT.length, { what: 'protobuf publications' });
    assert.deepEqual(pbGot(pb), SENT);
  });

  it('API broadcast, batch and legacy POST /api keep the bytes', async () => {
    const a = 'pres:fid-bc-a';
    const b = 'pres:fid-bc-b';
    const json = await rawConn('j2');
    await json.command(`"subscribe":{"channel":"${a}"}`);
    await json.command(`"subscribe":{"channel":"${b}"}`);
    const pb = await pbSubscriber('p2', b);
    const [first, second, third] = SENT;
    assert.ok(first !== undefined && second !== undefined && third !== undefined);
    const bc = await callApi(gyre.apiUrl, 'broadcast', undefined, { rawBody: `{"channels":["${a}","${b}"],"data":${first}}` });
    assert.equal(bc.status, 200, bc.text);
    const batch = await callApi(gyre.apiUrl, 'batch', undefined, {
      rawBody: `{"commands":[{"publish":{"channel":"${a}","data":${second}}},{"broadcast":{"channels":["${b}"],"data":${second}}}]}`,
    });
    assert.equal(batch.status, 200, batch.text);
    const legacy = await callApi(gyre.apiUrl, '', undefined, {
      rawBody: `{"method":"publish","params":{"channel":"${a}","data":${third}}}\n{"method":"publish","params":{"channel":"${b}","data":${third}}}`,
    });
    assert.equal(legacy.status, 200, legacy.text);
    await json.pushesCarry(a, [first, second, third]);
    await json.pushesCarry(b, [first, second, third]);
    await waitFor(() => pb.length === 3, { what: 'protobuf publications on b' });
    assert.deepEqual(pbGot(pb), [first, second, third]);
  });

  it('client publish (JSON protocol) reaches JSON and protobuf subscribers and history byte for byte', async () => {
    const channel = 'pres:fid-client';
    const publisher = await rawConn('j3');
    await publisher.command(`"subscribe":{"channel":"${channel}"}`);
    const pb = await pbSubscriber('p3', channel);
    for (const p of SENT) {
      const reply = await publisher.command(`"publish":{"channel":"${channel}","data":${p}}`);
      assert.match(reply, /"publish":\{\}/);
    }
    await publisher.pushesCarry(channel, SENT);
    await waitFor(() => pb.length === SENT.length, { what: 'protobuf publications' });
    assert.deepEqual(pbGot(pb), SENT);

    // Client history over the JSON protocol: the publications array carries the bytes.
    const hist = await publisher.command(`"history":{"channel":"${channel}","limit":100}`);
    for (const p of SENT) assert.ok(carries(hist, p), `client history carries ${p}`);
    // ... and over protobuf (centrifuge-js history): the same bytes.
    const pbHist = await pbClients[pbClients.length - 1]?.history(channel, { limit: 100 });
    assert.deepEqual(
      pbHist?.publications.map((p) => dec.decode(p.data as Uint8Array)),
      SENT,
    );
    // API history: written like Centrifugo (Go's encoding/json compacts a RawMessage and escapes <, >, &).
    const api = await callApi(gyre.apiUrl, 'history', { channel, limit: 100 });
    assert.equal(api.status, 200);
    for (const [, goForm] of PAYLOADS) assert.ok(carries(api.text, goForm), `API history carries ${goForm}: ${api.text}`);
  });

  it('recovery after reconnect returns the missed publications byte for byte', async () => {
    const channel = 'rec:fid-recover';
    const first = await rawConn('j4');
    const sub = await first.command(`"subscribe":{"channel":"${channel}"}`);
    const epoch = /"epoch":"([^"]*)"/.exec(sub)?.[1];
    assert.ok(epoch !== undefined, `recoverable subscribe reply: ${sub}`);
    first.close();
    for (const p of SENT) {
      const res = await callApi(gyre.apiUrl, 'publish', undefined, { rawBody: `{"channel":"${channel}","data":${p}}` });
      assert.equal(res.status, 200);
    }
    const again = await rawConn('j4');
    const recovered = await again.command(`"subscribe":{"channel":"${channel}","recover":true,"epoch":"${epoch}","offset":0}`);
    assert.match(recovered, /"recovered":true/);
    for (const p of SENT) assert.ok(carries(recovered, p), `recovered publications carry ${p}`);

    // centrifuge-js (JSON) recovers too; what it hands the app is its own JSON.parse of those bytes.
    const tc: TestClient = pool.json(gyre.url, { token: await connToken({ sub: 'j5', expIn: 3600 }) });
    const s = tc.client.newSubscription(channel, { since: { offset: 0, epoch } });
    const pubs = collect<PublicationContext>(s, 'publication');
    s.subscribe();
    tc.client.connect();
    await waitFor(() => pubs.length === SENT.length, { what: 'recovered publications in centrifuge-js' });
    assert.deepEqual(
      pubs.map((p) => p.data as unknown),
      SENT.map((p) => JSON.parse(p) as unknown),
    );
    const frames = tc.rec.frames.map((f) => f.text).join('\n');
    for (const p of SENT) assert.ok(carries(frames, p), `centrifuge-js frames carry ${p}`);
  });

  it('server-side subscriptions (token channels) get the bytes; API subscribe data and token info are kept', async () => {
    const channel = 'srv:fid-server';
    const conn = await rawConn('j6', [channel]);
    for (const p of SENT) {
      const res = await callApi(gyre.apiUrl, 'publish', undefined, { rawBody: `{"channel":"${channel}","data":${p}}` });
      assert.equal(res.status, 200);
    }
    await conn.pushesCarry(channel, SENT);

    // API subscribe with `data`: the subscribe push carries it.
    const subData = PAYLOADS[0]?.[0] ?? '';
    const res = await callApi(gyre.apiUrl, 'subscribe', undefined, { rawBody: `{"user":"j6","channel":"srv:fid-api-sub","data":${subData}}` });
    assert.equal(res.status, 200, res.text);
    await waitFor(() => conn.lines().some((l) => l.includes('"subscribe":{') && l.includes('srv:fid-api-sub') && carries(l, subData)), {
      what: 'subscribe push with data',
    });

    // Token `info` claim with raw JSON: publication info.conn_info carries its bytes.
    const info = '{"tier":1.10,"id":9007199254740993}';
    const now = Math.floor(Date.now() / 1000);
    const withInfo = await RawConn.open(gyre.url, rawToken(`{"sub":"j7","exp":${now + 3600},"info":${info}}`));
    raws.push(withInfo);
    await withInfo.command('"subscribe":{"channel":"pres:fid-info"}');
    await withInfo.command('"publish":{"channel":"pres:fid-info","data":{"x":1}}');
    await waitFor(() => withInfo.lines().some((l) => l.includes(`"conn_info":${info}`)), { what: 'conn_info bytes in the publication' });
  });

  it('cent.js publish still works (a JS object payload arrives equal)', async () => {
    const channel = 'pres:fid-cent';
    const json = await rawConn('j8');
    await json.command(`"subscribe":{"channel":"${channel}"}`);
    await cent.publish({ channel, data: { text: 'héllo', n: [1, 2] } });
    await json.pushesCarry(channel, ['{"text":"héllo","n":[1,2]}']);
  });

  it('deep nesting: the API accepts up to 10000 levels (body included) and answers 400 beyond; the client protocol accepts', async () => {
    const channel = 'pres:fid-deep';
    const json = await rawConn('j9');
    await json.command(`"subscribe":{"channel":"${channel}"}`);
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    const ok8000 = await callApi(gyre.apiUrl, 'publish', undefined, { rawBody: `{"channel":"${channel}","data":${deep(8000)}}` });
    assert.equal(ok8000.status, 200, ok8000.text);
    const ok9999 = await callApi(gyre.apiUrl, 'publish', undefined, { rawBody: `{"channel":"${channel}","data":${deep(9999)}}` });
    assert.equal(ok9999.status, 200);
    const over = await callApi(gyre.apiUrl, 'publish', undefined, { rawBody: `{"channel":"${channel}","data":${deep(10000)}}` });
    assert.equal(over.status, 400);
    const batchOver = await callApi(gyre.apiUrl, 'batch', undefined, {
      rawBody: `{"commands":[{"publish":{"channel":"${channel}","data":${deep(9997)}}}]}`,
    });
    assert.equal(batchOver.status, 400);
    const batchOk = await callApi(gyre.apiUrl, 'batch', undefined, {
      rawBody: `{"commands":[{"publish":{"channel":"${channel}","data":${deep(9996)}}}]}`,
    });
    assert.equal(batchOk.status, 200);
    const huge = await callApi(gyre.apiUrl, 'publish', undefined, { rawBody: `{"channel":"${channel}","data":${deep(200_000)}}` });
    assert.equal(huge.status, 400);
    await json.pushesCarry(channel, [deep(8000), deep(9999), deep(9996)]);

    // Client protocol: Centrifugo does not limit depth there (the frame size does); neither does Gyre.
    const reply = await json.command(`"publish":{"channel":"${channel}","data":${deep(20000)}}`);
    assert.match(reply, /"publish":\{\}/);
    await json.pushesCarry(channel, [deep(20000)]);
    assert.equal(json.closed, undefined);
    const health = await fetch(`${gyre.baseUrl}/health`);
    assert.equal(health.status, 200);
    assert.doesNotMatch(gyre.stderr(), /RangeError/);
    assert.equal(enc.encode(deep(1)).length, 2);
  });
});
