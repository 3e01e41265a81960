// The GRPC server API (docs/grpc.md) against a real Gyre process, through a grpc-js client whose stubs are loaded
// from src/grpc/api.proto: every method, payload bytes kept exactly, API errors with their codes, transport error
// mode, API key checks and bad input (undecodable and oversized messages).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublicationContext, ServerSubscribedContext, DisconnectedContext } from 'centrifuge';
import { API_KEY, ClientPool } from '../harness/clients.js';
import { grpc, GrpcApiClient, rawUnary, type Msg } from '../harness/grpc.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';
import { nextEvent } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

const MAX_MESSAGE = 64 * 1024;
const SERVICE = '/centrifugal.centrifugo.api.CentrifugoApi';

/** google.rpc.Status from `grpc-status-details-bin`: its code, message and the first detail's type URL and bytes. */
function parseStatusDetails(b: Buffer): { code: number; message: string; typeUrl: string; value: Buffer } {
  const fields = readFields(b);
  const any = readFields(fields.get(3) as Buffer);
  return {
    code: Number(fields.get(1)),
    message: (fields.get(2) as Buffer).toString(),
    typeUrl: (any.get(1) as Buffer).toString(),
    value: any.get(2) as Buffer,
  };
}

/** A tiny protobuf reader for the test: varint and length-delimited fields, last value per field number. */
function readFields(b: Buffer): Map<number, number | Buffer> {
  const out = new Map<number, number | Buffer>();
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const c = b[i++] as number;
      v += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) return v;
      shift += 7;
    }
  };
  while (i < b.length) {
    const tag = varint();
    if ((tag & 7) === 0) out.set(tag >>> 3, varint());
    else {
      const len = varint();
      out.set(tag >>> 3, b.subarray(i, i + len));
      i += len;
    }
  }
  return out;
}

describe('compat: GRPC server API', () => {
  let gyre: GyreProcess;
  let api: GrpcApiClient;
  let address: string;
  const pool = new ClientPool();

  before(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    gyre = await startGyre(
      mergeConfig(baseConfig(), { grpc_api: { enabled: true, address: '127.0.0.1', port, key: API_KEY, max_receive_message_size: MAX_MESSAGE } }),
    );
    api = new GrpcApiClient(address, API_KEY);
  });
  after(async () => {
    api?.close();
    pool.closeAll();
    await gyre?.stop();
  });

  it('publish keeps the payload bytes exactly, to subscribers and in history', async () => {
    const { client } = await pool.connected(gyre.url, { sub: 'g-pub', expIn: 3600 });
    const sub = client.newSubscription('rec:grpc-bytes');
    const subscribed = nextEvent(sub, 'subscribed');
    sub.subscribe();
    await subscribed;
    // Whitespace, key order, escapes and a big number: a re-encoding of the JSON would change some of them.
    const json = Buffer.from('{ "b" : 1,"a":[1.50, 12345678901234567890], "s":"\\u00e9<&>" }');
    const got = nextEvent<PublicationContext>(sub, 'publication');
    const r1 = await api.ok('Publish', { channel: 'rec:grpc-bytes', data: json, tags: { k: 'v' } });
    assert.equal(r1['offset'], 1);
    assert.equal(typeof r1['epoch'], 'string');
    const pub = await got;
    assert.deepEqual(pub.tags, { k: 'v' });

    // Bytes that are not JSON at all go through the GRPC API unchanged too.
    const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0x22]);
    const r2 = await api.ok('Publish', { channel: 'rec:grpc-bytes', data: binary });
    assert.equal(r2['offset'], 2);

    const h = await api.ok('History', { channel: 'rec:grpc-bytes', limit: 10 });
    const pubs = h['publications'] as Msg[];
    assert.equal(pubs.length, 2);
    assert.ok(Buffer.compare(pubs[0]?.['data'] as Buffer, json) === 0, 'JSON payload byte-exact');
    assert.ok(Buffer.compare(pubs[1]?.['data'] as Buffer, binary) === 0, 'binary payload byte-exact');
    assert.deepEqual(pubs[0]?.['tags'], { k: 'v' });
    assert.deepEqual([pubs[0]?.['offset'], pubs[1]?.['offset']], [1, 2]);
    assert.equal(h['epoch'], r1['epoch']);
    assert.equal(h['offset'], 2);

    const since = await api.ok('History', { channel: 'rec:grpc-bytes', limit: 10, since: { offset: 1, epoch: r1['epoch'] } });
    assert.equal((since['publications'] as Msg[]).length, 1);
    const reversed = await api.ok('History', { channel: 'rec:grpc-bytes', limit: 1, reverse: true });
    assert.equal((reversed['publications'] as Msg[])[0]?.['offset'], 2);

    assert.deepEqual(await api.ok('HistoryRemove', { channel: 'rec:grpc-bytes' }), {});
    const empty = await api.ok('History', { channel: 'rec:grpc-bytes', limit: 10 });
    assert.equal(empty['publications'], undefined);
    assert.equal(empty['offset'], 2);
  });

  it('broadcast answers per channel, errors included', async () => {
    const r = await api.ok('Broadcast', { channels: ['rec:b1', 'open:b2', 'nope:b3', ''], data: Buffer.from('{"x":1}') });
    const responses = r['responses'] as Msg[];
    assert.equal(responses.length, 4);
    assert.equal((responses[0]?.['result'] as Msg)['offset'], 1);
    assert.deepEqual(responses[1], { result: {} });
    assert.deepEqual(responses[2], { error: { code: 102, message: 'unknown channel' } });
    assert.deepEqual(responses[3], { error: { code: 107, message: 'bad request' } });
  });

  it('subscribe, presence, presence_stats, channels, unsubscribe, refresh and disconnect act on a real client', async () => {
    const { client, id } = await pool.connected(gyre.url, { sub: 'g-user', expIn: 3600 });
    const subscribed = nextEvent<ServerSubscribedContext>(client, 'subscribed');
    const info = Buffer.from('{"role":"ops"}');
    assert.deepEqual(await api.ok('Subscribe', { user: 'g-user', channel: 'pres:grpc', info, data: Buffer.from('{"hi":1}') }), {});
    const s = await subscribed;
    assert.equal(s.channel, 'pres:grpc');
    assert.deepEqual(s.data, { hi: 1 });

    const p = await api.ok('Presence', { channel: 'pres:grpc' });
    const entry = (p['presence'] as Record<string, Msg>)[id];
    assert.ok(entry !== undefined, 'the client is present');
    assert.equal(entry['user'], 'g-user');
    assert.equal(entry['client'], id);
    assert.ok(Buffer.compare(entry['chan_info'] as Buffer, info) === 0, 'chan_info byte-exact');
    assert.deepEqual(await api.ok('PresenceStats', { channel: 'pres:grpc' }), { num_clients: 1, num_users: 1 });

    const chans = await api.ok('Channels', { pattern: 'pres:grp*' });
    assert.deepEqual(chans['channels'], { 'pres:grpc': { num_clients: 1 } });

    const pub = nextEvent<PublicationContext>(client, 'publication');
    await api.ok('Publish', { channel: 'pres:grpc', data: Buffer.from('{"n":1}') });
    assert.deepEqual((await pub).data, { n: 1 });

    const unsubscribed = nextEvent<{ channel: string }>(client, 'unsubscribed');
    assert.deepEqual(await api.ok('Unsubscribe', { user: 'g-user', channel: 'pres:grpc' }), {});
    assert.equal((await unsubscribed).channel, 'pres:grpc');
    assert.deepEqual(await api.ok('PresenceStats', { channel: 'pres:grpc' }), {});

    assert.deepEqual(await api.ok('Refresh', { user: 'g-user', expire_at: Math.floor(Date.now() / 1000) + 7200 }), {});
    assert.equal(client.state, 'connected');

    const disconnected = nextEvent<DisconnectedContext>(client, 'disconnected');
    assert.deepEqual(await api.ok('Disconnect', { user: 'g-user', disconnect: { code: 4501, reason: 'grpc says bye' } }), {});
    assert.deepEqual(await disconnected.then((d) => ({ code: d.code, reason: d.reason })), { code: 4501, reason: 'grpc says bye' });
  });

  it('info lists this node; rpc without extensions is 104 (107 without a method)', async () => {
    const nodes = (await api.ok('Info', {}))['nodes'] as Msg[];
    assert.equal(nodes.length, 1);
    assert.equal(typeof nodes[0]?.['uid'], 'string');
    assert.match(String(nodes[0]?.['version']), /Gyre/);
    assert.deepEqual((await api.call('RPC', { method: 'x', params: Buffer.from('{}') })).response, { error: { code: 104, message: 'not found' } });
    assert.deepEqual((await api.call('RPC', {})).response, { error: { code: 107, message: 'bad request' } });
  });

  it('API errors come in the response with their codes', async () => {
    const cases: [string, Msg, number][] = [
      ['Publish', { channel: 'nope:x', data: Buffer.from('1') }, 102],
      ['Publish', { channel: '', data: Buffer.from('1') }, 107],
      ['Publish', { channel: 'open:x' }, 107],
      ['Publish', { channel: 'open:x', b64data: '%%%' }, 107],
      ['Presence', { channel: 'open:x' }, 108],
      ['History', { channel: 'open:x' }, 108],
      ['History', { channel: 'rec:unrec', since: { offset: 5, epoch: 'bad' } }, 112],
      ['Subscribe', { user: 'u', channel: '' }, 107],
    ];
    for (const [method, req, code] of cases) {
      const r = await api.call(method, req);
      assert.equal(r.error, undefined, method);
      assert.equal((r.response?.['error'] as Msg | undefined)?.['code'], code, `${method} ${JSON.stringify(req)}`);
      assert.equal(r.response?.['result'], undefined);
    }
  });

  it('transport error mode: a GRPC status with the API error in its details', async () => {
    const r = await api.call('Publish', { channel: 'nope:x', data: Buffer.from('1') }, { metadata: { 'x-centrifugo-error-mode': 'transport' } });
    assert.equal(r.error?.code, grpc.status.NOT_FOUND);
    assert.equal(r.error?.details, 'unknown channel');
    const bin = r.error?.metadata.get('grpc-status-details-bin')[0];
    assert.ok(Buffer.isBuffer(bin), 'grpc-status-details-bin present');
    const st = parseStatusDetails(bin);
    assert.equal(st.code, grpc.status.NOT_FOUND);
    assert.equal(st.typeUrl, 'type.googleapis.com/centrifugal.centrifugo.api.Error');
    const e = readFields(st.value);
    assert.deepEqual([e.get(1), (e.get(2) as Buffer).toString()], [102, 'unknown channel']);
    const bad = await api.call('Publish', { channel: 'open:x' }, { metadata: { 'x-centrifugo-error-mode': 'transport' } });
    assert.equal(bad.error?.code, grpc.status.INVALID_ARGUMENT);
    // A success is a normal response in this mode too.
    const ok = await api.call('Publish', { channel: 'open:x', data: Buffer.from('1') }, { metadata: { 'x-centrifugo-error-mode': 'transport' } });
    assert.deepEqual(ok.response, { result: {} });
  });

  it('batch runs each command, sequentially or in parallel, with per-command errors', async () => {
    for (const parallel of [false, true]) {
      const ch = `rec:batch-${String(parallel)}`;
      await api.ok('Publish', { channel: ch, data: Buffer.from('"a"') });
      const r = await api.call('Batch', {
        parallel,
        commands: [
          { publish: { channel: ch, data: Buffer.from('"b"') } },
          { publish: { channel: 'nope:x', data: Buffer.from('1') } },
          { history: { channel: ch, limit: 5 } },
          {},
          { presence_stats: { channel: 'pres:none' } },
          { connections: { user: 'x' } },
        ],
      });
      const replies = r.response?.['replies'] as Msg[];
      assert.equal(replies.length, 6);
      assert.equal((replies[0]?.['publish'] as Msg)['offset'], 2);
      assert.deepEqual(replies[1], { error: { code: 102, message: 'unknown channel' } });
      const hist = (replies[2]?.['history'] as Msg)['publications'] as Msg[];
      // In parallel the history read may run before the publish of the same batch.
      const want = parallel ? [['"a"'], ['"a"', '"b"']] : [['"a"', '"b"']];
      assert.ok(want.some((w) => JSON.stringify(w) === JSON.stringify(hist.map((p) => (p['data'] as Buffer).toString()))));
      assert.deepEqual(replies[3], { error: { code: 104, message: 'not found' } });
      assert.deepEqual(replies[4], { presence_stats: {} });
      assert.deepEqual(replies[5], { error: { code: 104, message: 'not found' } }, 'a PRO command is not found');
    }
    assert.deepEqual((await api.call('Batch', { commands: [] })).response, {});
  });

  it('a missing or wrong API key is refused with UNAUTHENTICATED', async () => {
    for (const key of [null, 'wrong', `${API_KEY} `]) {
      const r = await api.call('Info', {}, { key });
      assert.equal(r.error?.code, grpc.status.UNAUTHENTICATED, String(key));
      assert.equal(r.error?.details, 'unauthenticated');
    }
    const batch = await api.call('Batch', { commands: [{ publish: { channel: 'open:k', data: Buffer.from('1') } }] }, { key: 'wrong' });
    assert.equal(batch.error?.code, grpc.status.UNAUTHENTICATED);
    // Authorization: the HTTP API's X-API-Key style value is not enough either.
    const raw = await rawUnary(address, `${SERVICE}/Info`, Buffer.alloc(0), { authorization: API_KEY });
    assert.equal(raw.error?.code, grpc.status.UNAUTHENTICATED);
  });

  it('bad input: undecodable and oversized messages get GRPC errors; the server keeps serving', async () => {
    const auth = { authorization: `apikey ${API_KEY}` };
    // Field 1 (channel) as a string longer than the message; a truncated varint; an invalid wire type.
    for (const garbage of [Buffer.from([0x0a, 0x7f, 0x61]), Buffer.from([0x08, 0xff]), Buffer.from([0x0f, 0x01])]) {
      for (const method of ['Publish', 'Batch', 'History']) {
        const r = await rawUnary(address, `${SERVICE}/${method}`, garbage, auth);
        assert.equal(r.error?.code, grpc.status.INTERNAL, `${method} ${garbage.toString('hex')}`);
      }
    }
    // Invalid UTF-8 in a string field.
    const badUtf8 = await rawUnary(address, `${SERVICE}/Publish`, Buffer.from([0x0a, 0x02, 0xc3, 0x28]), auth);
    assert.equal(badUtf8.error?.code, grpc.status.INTERNAL);
    // Larger than grpc_api.max_receive_message_size.
    const big = await api.call('Publish', { channel: 'open:big', data: Buffer.alloc(MAX_MESSAGE + 1, 0x31) });
    assert.equal(big.error?.code, grpc.status.RESOURCE_EXHAUSTED);
    // Methods of Centrifugo PRO and unknown paths.
    assert.equal((await api.call('Connections', {})).error?.code, grpc.status.UNIMPLEMENTED);
    assert.equal((await rawUnary(address, `${SERVICE}/Nope`, Buffer.alloc(0), auth)).error?.code, grpc.status.UNIMPLEMENTED);
    // Still serving.
    assert.deepEqual(await api.ok('Publish', { channel: 'open:after', data: Buffer.from('1') }), {});
  });
});
