// The uni_grpc transport (docs/grpc.md) against a real Gyre process, with a grpc-js client whose stubs are loaded
// from src/grpc/unistream.proto: the connect push first, publications with their bytes unchanged, a disconnect push
// before the stream ends, connect errors as disconnects, bad requests as GRPC errors, and a client that goes away.
// The same sequence against real Centrifugo v6 must give pushes of the same shape (skipped without the binary).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_KEY } from '../harness/clients.js';
import { findCentrifugo, startCentrifugo, type CentrifugoProcess } from '../harness/centrifugo.js';
import { comparable, consumeUni, grpc, GrpcApiClient, rawUnary, type Msg } from '../harness/grpc.js';
import { mergeConfig, startGyre } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

const MAX_REQUEST = 4096;
const centrifugoBin = findCentrifugo();

interface Server {
  uni: string;
  api: GrpcApiClient;
  stop(): Promise<unknown>;
}

async function ports(): Promise<{ uni: number; api: number; config: Record<string, unknown> }> {
  const [uni, api] = [await freePort(), await freePort()];
  const config = mergeConfig(baseConfig(), {
    uni_grpc: { enabled: true, address: '127.0.0.1', port: uni, max_receive_message_size: MAX_REQUEST },
    grpc_api: { enabled: true, address: '127.0.0.1', port: api, key: API_KEY },
    client: { ping_interval: '20s' },
  });
  return { uni, api, config };
}

async function gyreServer(): Promise<Server> {
  const p = await ports();
  const g = await startGyre(p.config);
  return { uni: `127.0.0.1:${p.uni}`, api: new GrpcApiClient(`127.0.0.1:${p.api}`, API_KEY), stop: () => g.stop() };
}

async function centrifugoServer(binary: string): Promise<Server> {
  const p = await ports();
  const c: CentrifugoProcess = await startCentrifugo(p.config, { binary });
  return { uni: `127.0.0.1:${p.uni}`, api: new GrpcApiClient(`127.0.0.1:${p.api}`, API_KEY), stop: () => c.stop() };
}

const placeholder = (name: string) => (v: unknown) => (typeof v === 'string' ? `<${name}>` : v);
/** Run-specific values (ids, versions, epochs, the token's remaining seconds) replaced, so two servers' pushes compare. */
const shape = (v: unknown): unknown =>
  comparable(v, {
    client: placeholder('client'),
    version: placeholder('version'),
    epoch: placeholder('epoch'),
    session: placeholder('session'),
    node: placeholder('node'),
    // Seconds left of the token, read at slightly different moments.
    ttl: (t) => (typeof t === 'number' && t > 3590 && t <= 3600 ? '<ttl about 3600>' : t),
  });

/** The scenario both servers run: connect with a server-side channel, one publication, disconnect from the API. */
async function scenario(s: Server, user: string): Promise<{ pushes: Msg[]; status: grpc.StatusObject }> {
  const token = await connToken({ sub: user, expIn: 3600, channels: ['open:uni'] });
  const { stream, client } = consumeUni(s.uni, { token, name: 'grpc-test', headers: { 'x-app': '1' } });
  try {
    const connect = await stream.push(1);
    assert.ok(connect['connect'] !== undefined, `first push is the connect push: ${JSON.stringify(connect)}`);
    await s.api.ok('Publish', { channel: 'open:uni', data: Buffer.from('{ "x" : 1.50 }') });
    await stream.push(2);
    await s.api.ok('Disconnect', { user, disconnect: { code: 4501, reason: 'bye' } });
    const status = await stream.ended;
    // Pings (empty pushes) may fall anywhere in the sequence: left out here, checked on their own.
    return { pushes: stream.pushes.filter((p) => Object.keys(p).length > 0), status };
  } finally {
    client.close();
  }
}

describe('compat: uni_grpc transport', () => {
  let gyre: Server;

  before(async () => {
    gyre = await gyreServer();
  });
  after(async () => {
    gyre?.api.close();
    await gyre?.stop();
  });

  it('connect push first, publications byte-exact, a disconnect push, then the stream ends with OK', async () => {
    const { pushes, status } = await scenario(gyre, 'uni-a');
    assert.equal(status.code, grpc.status.OK);
    assert.equal(pushes.length, 3, JSON.stringify(pushes));
    const connect = pushes[0]?.['connect'] as Msg;
    assert.equal(typeof connect['client'], 'string');
    assert.match(String(connect['version']), /Gyre/);
    assert.equal(connect['ping'], 25, "uni_grpc's fixed ping interval (client.ping_interval does not apply)");
    assert.equal(connect['pong'], undefined, 'no pong expected from a unidirectional client');
    assert.ok((connect['subs'] as Msg)['open:uni'] !== undefined, 'the token channel is in the connect push');
    assert.equal(pushes[1]?.['channel'], 'open:uni');
    const data = (pushes[1]?.['pub'] as Msg)['data'] as Buffer;
    assert.equal(data.toString(), '{ "x" : 1.50 }', 'payload bytes unchanged');
    assert.deepEqual(pushes[2], { disconnect: { code: 4501, reason: 'bye' } });
  });

  it('a connect error becomes a disconnect push and the end of the stream', async () => {
    const { stream, client } = consumeUni(gyre.uni, { token: 'not-a-jwt' });
    try {
      const status = await stream.ended;
      assert.equal(status.code, grpc.status.OK);
      assert.deepEqual(stream.pushes, [{ disconnect: { code: 3500, reason: 'invalid token' } }]);
    } finally {
      client.close();
    }
  });

  it('bad requests get GRPC errors; a client that goes away is cleaned up; the server keeps serving', async () => {
    const path = '/centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume';
    // Truncated string field, invalid wire type, invalid UTF-8 in the token.
    for (const garbage of [Buffer.from([0x0a, 0x7f, 0x61]), Buffer.from([0x0f, 0x01]), Buffer.from([0x0a, 0x02, 0xc3, 0x28])]) {
      const client = new grpc.Client(gyre.uni, grpc.credentials.createInsecure());
      const call = client.makeServerStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, garbage);
      call.on('data', () => assert.fail('no push for an undecodable request'));
      call.on('error', () => undefined);
      const st = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
      client.close();
      assert.equal(st.code, grpc.status.INTERNAL, garbage.toString('hex'));
    }
    const big = consumeUni(gyre.uni, { token: 'x'.repeat(MAX_REQUEST + 1) });
    assert.equal((await big.stream.ended).code, grpc.status.RESOURCE_EXHAUSTED);
    big.client.close();
    // The unary path of the same service does not exist.
    assert.equal((await rawUnary(gyre.uni, path.replace('Consume', 'Nope'), Buffer.alloc(0))).error?.code, grpc.status.UNIMPLEMENTED);

    const token = await connToken({ sub: 'uni-gone', expIn: 3600, channels: ['pres:uni'] });
    const { stream, client } = consumeUni(gyre.uni, { token });
    await stream.push(1);
    assert.deepEqual(await gyre.api.ok('PresenceStats', { channel: 'pres:uni' }), { num_clients: 1, num_users: 1 });
    stream.cancel();
    client.close();
    await waitFor(async () => Object.keys(await gyre.api.ok('PresenceStats', { channel: 'pres:uni' })).length === 0, {
      timeoutMs: 10_000,
      what: 'the cancelled stream leaves presence',
    });
    // Still serving.
    const again = consumeUni(gyre.uni, { token: await connToken({ sub: 'uni-again', expIn: 3600 }) });
    assert.ok((await again.stream.push(1))['connect'] !== undefined);
    again.stream.cancel();
    again.client.close();
  });

  it('the same scenario on real Centrifugo v6 gives pushes of the same shape', async (t) => {
    if (centrifugoBin === undefined) return t.skip('centrifugo binary not installed (scripts/install-centrifugo.sh)');
    const cf = await centrifugoServer(centrifugoBin);
    try {
      const [g, c] = [await scenario(gyre, 'uni-cmp'), await scenario(cf, 'uni-cmp')];
      assert.equal(g.status.code, c.status.code);
      assert.deepEqual(shape(g.pushes), shape(c.pushes));
      const bad = consumeUni(cf.uni, { token: 'not-a-jwt' });
      await bad.stream.ended;
      bad.client.close();
      assert.deepEqual(bad.stream.pushes, [{ disconnect: { code: 3500, reason: 'invalid token' } }]);
    } finally {
      cf.api.close();
      await cf.stop();
    }
  });
});
