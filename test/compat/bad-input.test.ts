// Malformed and unexpected input over a raw `ws` socket, plus wire-level batching of replies
// (docs/protocol.md §1.1 correlation rules, §1.3 reading rules and size limit, §1.10 pong rules, §2.3 3501, §7.1, §11).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { PublicationContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, ClientPool, isRecord, UUID_RE } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor, withTimeout } from '../harness/wait.js';
import { baseConfig } from './base-config.js';
import { subscribeOutcome } from './outcome.js';

const SIZE_LIMIT = 4096;

interface RawSession {
  ws: WebSocket;
  frames: string[];
  closed: Promise<{ code: number; reason: string }>;
}

describe('compat: bad input over a raw WebSocket', () => {
  let gyre: GyreProcess;
  let cent: CentClient;
  let token = '';
  const pool = new ClientPool();

  async function open(): Promise<RawSession> {
    const ws = pool.raw(gyre.url);
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString('utf8')));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') }));
    });
    await nextEvent(ws, 'open');
    return { ws, frames, closed };
  }

  async function openConnected(): Promise<RawSession> {
    const s = await open();
    s.ws.send(`{"connect":{"token":"${token}","name":"raw"},"id":1}`);
    await waitFor(() => s.frames.length > 0, { what: 'connect reply' });
    const reply = JSON.parse(s.frames[0] ?? '') as Record<string, unknown>;
    assert.equal(reply['id'], 1);
    assert.ok(isRecord(reply['connect']), `connect succeeded: ${s.frames[0] ?? ''}`);
    return s;
  }

  async function expectClose(s: RawSession, code: number): Promise<string> {
    const c = await withTimeout(s.closed, 10_000, `close ${code}`);
    assert.equal(c.code, code);
    return c.reason;
  }

  before(async () => {
    gyre = await startGyre(mergeConfig(baseConfig(), { websocket: { message_size_limit: SIZE_LIMIT } }));
    cent = new CentClient({ url: gyre.apiUrl, apiKey: API_KEY });
    token = await connToken({ sub: 'raw-user', expIn: 3600 });
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('malformed JSON ⇒ close 3501 with a non-empty reason (before and after connect)', async () => {
    const s1 = await open();
    s1.ws.send('{"connect":');
    assert.notEqual(await expectClose(s1, 3501), '');
    const s2 = await openConnected();
    s2.ws.send('{"id":2,"subscribe":{');
    assert.equal(await expectClose(s2, 3501), 'bad request');
  });

  it('unknown command ⇒ 3501 (as first frame and after connect)', async () => {
    const s1 = await open();
    s1.ws.send('{"id":1,"foo":{}}');
    await expectClose(s1, 3501);
    const s2 = await openConnected();
    s2.ws.send('{"id":2,"foo":{}}');
    await expectClose(s2, 3501);
  });

  it('subscribe before connect ⇒ 3501', async () => {
    const s = await open();
    s.ws.send('{"subscribe":{"channel":"open:x"},"id":1}');
    await expectClose(s, 3501);
    assert.deepEqual(s.frames, [], 'no reply is written');
  });

  it('empty frame ⇒ 3501 (before and after connect)', async () => {
    const s1 = await open();
    s1.ws.send('');
    await expectClose(s1, 3501);
    const s2 = await openConnected();
    s2.ws.send('');
    await expectClose(s2, 3501);
  });

  it('frame larger than websocket.message_size_limit ⇒ close 1009', async () => {
    const s = await openConnected();
    s.ws.send(`{"id":2,"publish":{"channel":"open:x","data":{"pad":"${'x'.repeat(SIZE_LIMIT)}"}}}`);
    await expectClose(s, 1009);
  });

  it('pong without an outstanding ping ⇒ 3501', async () => {
    const s = await openConnected();
    s.ws.send('{}');
    await expectClose(s, 3501);
  });

  it('command with id 0 (not send), second connect, empty channel ⇒ 3501', async () => {
    const s1 = await openConnected();
    s1.ws.send('{"subscribe":{"channel":"open:x"}}');
    await expectClose(s1, 3501);
    const s2 = await openConnected();
    s2.ws.send(`{"connect":{"token":"${token}"},"id":2}`);
    await expectClose(s2, 3501);
    const s3 = await openConnected();
    s3.ws.send('{"subscribe":{"channel":""},"id":2}');
    await expectClose(s3, 3501);
  });

  it('Origin header with empty client.allowed_origins ⇒ upgrade rejected with 403', async () => {
    const ws = new WebSocket(gyre.url, { origin: 'http://evil.example' });
    const status = await withTimeout(
      new Promise<number>((resolve) => {
        ws.once('unexpected-response', (_req: unknown, res: { statusCode?: number }) => resolve(res.statusCode ?? 0));
        ws.once('open', () => resolve(101));
        ws.once('error', () => resolve(-1));
      }),
      5000,
      'upgrade answer',
    );
    ws.terminate();
    assert.equal(status, 403);
  });

  it('subprotocol centrifuge-json is accepted and echoed', async () => {
    const ws = pool.raw(gyre.url, 'centrifuge-json');
    await nextEvent(ws, 'open');
    assert.equal(ws.protocol, 'centrifuge-json');
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString('utf8')));
    ws.send(`{"connect":{"token":"${token}"},"id":1}`);
    await waitFor(() => frames.length > 0, { what: 'connect reply' });
    assert.ok(isRecord((JSON.parse(frames[0] ?? '') as Record<string, unknown>)['connect']));
  });

  it('after all of that, a centrifuge-js client still connects, subscribes and receives', async () => {
    const { client } = pool.json(gyre.url, { token });
    client.connect();
    const sub = client.newSubscription('open:after-bad');
    assert.equal((await subscribeOutcome(sub)).kind, 'subscribed');
    const got = nextEvent<PublicationContext>(sub, 'publication');
    await cent.publish({ channel: 'open:after-bad', data: { still: 'alive' } });
    assert.deepEqual((await got).data, { still: 'alive' });
  });

  it('connect + subscribe in ONE frame ⇒ both replies, one frame each (docs/deploy.md §5), shaped as in §11', async () => {
    let epoch = '';
    for (let i = 1; i <= 7; i++) epoch = (await cent.publish({ channel: 'rec:wire', data: { text: `#${i}` } })).epoch ?? '';
    assert.notEqual(epoch, '');
    const s = await open();
    s.ws.send(
      `{"connect":{"token":"${token}","name":"js"},"id":1}\n` +
        `{"subscribe":{"channel":"rec:wire","flag":1,"recover":true,"offset":5,"epoch":"${epoch}"},"id":2}`,
    );
    await waitFor(() => s.frames.join('\n').includes('"id":2'), { what: 'subscribe reply' });
    // Centrifugo joins them into one frame; Gyre writes one reply per frame (in one socket write), so that
    // centrifuge-js under Node cannot hand a later push to the application before the subscribe reply.
    assert.equal(s.frames.length, 2, 'one frame per reply');
    for (const frame of s.frames) assert.equal(frame.includes('\n'), false, 'one message, no newline');
    const lines = [...s.frames];
    for (const line of lines) assert.equal(line, JSON.stringify(JSON.parse(line)), 'compact single-line JSON');
    const connect = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    const subscribe = JSON.parse(lines[1] ?? '') as Record<string, unknown>;

    assert.deepEqual(Object.keys(connect).sort(), ['connect', 'id']);
    assert.equal(connect['id'], 1);
    const cr = connect['connect'];
    assert.ok(isRecord(cr));
    assert.match(String(cr['client']), UUID_RE);
    assert.equal(typeof cr['version'], 'string');
    assert.equal(cr['expires'], true);
    assert.equal(typeof cr['ttl'], 'number');
    assert.equal(cr['ping'], 25);
    assert.equal(cr['pong'], true);
    assert.deepEqual(Object.keys(cr).sort(), ['client', 'expires', 'ping', 'pong', 'ttl', 'version']);

    assert.deepEqual(subscribe, {
      id: 2,
      subscribe: {
        recoverable: true,
        epoch,
        publications: [
          { data: { text: '#6' }, offset: 6 },
          { data: { text: '#7' }, offset: 7 },
        ],
        recovered: true,
        offset: 5,
        positioned: true,
        was_recovering: true,
      },
    });

    // Live publication push after that (§11 step 5).
    await cent.publish({ channel: 'rec:wire', data: { text: 'hello' } });
    await waitFor(() => s.frames.length === 3, { what: 'publication push' });
    assert.deepEqual(JSON.parse(s.frames[2] ?? ''), { push: { channel: 'rec:wire', pub: { data: { text: 'hello' }, offset: 8 } } });
  });
});
