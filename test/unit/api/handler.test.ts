import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { ApiHandler } from '../../../src/api/handler.js';
import type { GyreConfig } from '../../../src/config/types.js';
import { HttpFront } from '../../../src/http/front.js';
import { Router } from '../../../src/http/router.js';
import { closeFront } from '../../../src/http/server.js';
import { ApiError } from '../../../src/protocol/errors.js';
import { FakeNode } from './fake-node.js';

const KEY = 'secret-key';
type ApiConfig = GyreConfig['http_api'];
const baseConfig: ApiConfig = { disabled: false, handler_prefix: '/api', key: KEY, error_mode: '', external: false, insecure: false, max_request_body_size: 10 * 1024 * 1024, max_batch_size: 1_000_000 };

interface Env {
  server: Server;
  base: string;
  node: FakeNode;
  shuttingDown: boolean;
  front?: HttpFront;
}

/**
 * Every case runs twice: through Node's http.Server, and through the listening front that answers the method
 * endpoints itself (src/http/direct.ts); both must give the same answers.
 */
type Via = 'http.Server' | 'front';

async function start(via: Via, config: Partial<ApiConfig> = {}, bodyLimit?: number): Promise<Env> {
  const node = new FakeNode();
  const env: Env = { server: undefined as unknown as Server, base: '', node, shuttingDown: false };
  const router = new Router();
  const opts = { config: { ...baseConfig, ...config }, node, logger: pino({ level: 'silent' }), isShuttingDown: () => env.shuttingDown };
  const api = new ApiHandler(bodyLimit === undefined ? opts : { ...opts, bodyLimit });
  api.register(router);
  env.server = createServer({ keepAlive: true }, router.handle);
  if (via === 'front') {
    env.front = new HttpFront({ http: env.server, direct: api.directTarget() });
    await new Promise<void>((r) => env.front?.server.listen(0, '127.0.0.1', r));
  } else {
    await new Promise<void>((r) => env.server.listen(0, '127.0.0.1', r));
  }
  const listening = env.front?.server ?? env.server;
  env.base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  return env;
}

async function stop(env: Env): Promise<void> {
  if (env.front !== undefined) return closeFront(env.front);
  env.server.closeAllConnections();
  await new Promise<void>((r) => env.server.close(() => r()));
}

interface Res {
  status: number;
  text: string;
  type: string | null;
}

async function post(env: Env, path: string, body: unknown, headers: Record<string, string> = { 'X-API-Key': KEY }): Promise<Res> {
  const r = await fetch(env.base + path, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
}

function suite(via: Via): void {
  describe(`server API transport rules (${via})`, () => {
    let env: Env;
    before(async () => {
      env = await start(via);
    });
    after(() => stop(env));

    it('accepts X-API-Key, Authorization apikey (any case) and ?api_key=', async () => {
      assert.equal((await post(env, '/api/info', {}, { 'X-API-Key': KEY })).status, 200);
      assert.equal((await post(env, '/api/info', {}, { Authorization: `apikey ${KEY}` })).status, 200);
      assert.equal((await post(env, '/api/info', {}, { Authorization: `ApiKey ${KEY}` })).status, 200);
      assert.equal((await post(env, `/api/info?api_key=${KEY}`, {}, {})).status, 200);
    });

    it('answers 401 with an empty body for missing or wrong keys', async () => {
      for (const headers of [{}, { 'X-API-Key': 'nope' }, { Authorization: `Bearer ${KEY}` }, { Authorization: `apikey ${KEY} x` }]) {
        const r = await post(env, '/api/info', {}, headers);
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.text, '');
      }
      assert.equal((await post(env, '/api/info?api_key=bad', {}, {})).status, 401);
      // X-API-Key takes precedence over a correct Authorization header.
      assert.equal((await post(env, '/api/info', {}, { 'X-API-Key': 'bad', Authorization: `apikey ${KEY}` })).status, 401);
    });

    it('answers 405 for non-POST before auth, 404 for unknown methods', async () => {
      const r = await fetch(`${env.base}/api/publish`);
      assert.equal(r.status, 405);
      await r.text();
      assert.equal((await post(env, '/api/nope', {})).status, 404);
      assert.equal((await post(env, '/api/publish/extra', {})).status, 404);
    });

    it('answers 400 Bad Request for invalid JSON and wrong field types', async () => {
      for (const body of ['{', '', '[1]', '{"channel":1,"data":{}}', '{"channel":"a","data":{},"tags":{"a":1}}', '{"channel":"a","data":1,"skip_history":"yes"}']) {
        const r = await post(env, '/api/publish', body);
        assert.equal(r.status, 400, body);
        assert.equal(r.text, 'Bad Request');
      }
      assert.equal((await post(env, '/api/history', { channel: 'a', limit: 1.5 })).status, 400);
      assert.equal((await post(env, '/api/batch', { commands: 'x' })).status, 400);
    });
  });

  describe(`server API envelopes (${via})`, () => {
    let env: Env;
    before(async () => {
      env = await start(via);
    });
    after(() => stop(env));
    beforeEach(() => {
      env.node.calls.length = 0;
      env.node.failWith = undefined;
      env.node.publishImpl = () => Promise.resolve({});
    });

    it('publish passes the raw JSON text and options, answers {"result":{}} as application/json', async () => {
      const r = await post(env, '/api/publish', '{"channel":"chat","data":{"text":"hi"},"skip_history":true,"tags":{"a":"b"},"idempotency_key":"k"}');
      assert.equal(r.status, 200);
      assert.equal(r.type, 'application/json');
      assert.equal(r.text, '{"result":{}}');
      assert.deepEqual(env.node.calls[0], {
        method: 'publish',
        args: ['chat', '{"text":"hi"}', { skipHistory: true, tags: { a: 'b' }, idempotencyKey: 'k' }],
      });
    });

    it('publish result carries offset and epoch; b64data is decoded', async () => {
      env.node.publishImpl = () => Promise.resolve({ offset: 8, epoch: 'kTQn' });
      const r = await post(env, '/api/publish', { channel: 'chat', b64data: Buffer.from('bin').toString('base64') });
      assert.equal(r.text, '{"result":{"offset":8,"epoch":"kTQn"}}');
      assert.equal(env.node.calls[0]?.args[1], 'bin');
    });

    it('validation errors are 107 in the body envelope', async () => {
      for (const body of [{ data: {} }, { channel: 'chat' }, { channel: 'chat', data: null }, { channel: 'chat', b64data: '!!' }]) {
        const r = await post(env, '/api/publish', body);
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.text), { error: { code: 107, message: 'bad request' } });
      }
      for (const m of ['presence', 'presence_stats', 'history', 'history_remove', 'subscribe']) {
        assert.deepEqual(JSON.parse((await post(env, `/api/${m}`, {})).text), { error: { code: 107, message: 'bad request' } }, m);
      }
      assert.deepEqual(JSON.parse((await post(env, '/api/broadcast', { channels: [], data: 1 })).text).error.code, 107);
      assert.equal(env.node.calls.length, 0);
    });

    it('node ApiErrors become {"error":{code,message}}; other exceptions become 100', async () => {
      env.node.failWith = new ApiError(102);
      assert.equal((await post(env, '/api/presence', { channel: 'x:y' })).text, '{"error":{"code":102,"message":"unknown channel"}}');
      env.node.failWith = new Error('boom');
      const r = await post(env, '/api/presence', { channel: 'x' });
      assert.equal(r.status, 200);
      assert.equal(r.text, '{"error":{"code":100,"message":"internal server error"}}');
    });

    it('transport error mode by header maps codes to HTTP statuses with a bare error body', async () => {
      const table: Array<[number, number]> = [[100, 500], [102, 404], [104, 404], [107, 400], [108, 400], [112, 416], [113, 409], [111, 500]];
      for (const [code, status] of table) {
        env.node.failWith = new ApiError(code, `m${code}`);
        const r = await post(env, '/api/history_remove', { channel: 'c' }, { 'X-API-Key': KEY, 'X-Centrifugo-Error-Mode': 'transport' });
        assert.equal(r.status, status, String(code));
        assert.deepEqual(JSON.parse(r.text), { code, message: `m${code}` });
      }
      env.node.failWith = undefined;
      const ok = await post(env, '/api/history_remove', { channel: 'c' }, { 'X-API-Key': KEY, 'X-Centrifugo-Error-Mode': 'transport' });
      assert.deepEqual([ok.status, ok.text], [200, '{"result":{}}']);
    });

    it('broadcast answers one response per channel, in order', async () => {
      env.node.publishImpl = (ch) => (ch === 'bad' ? Promise.reject(new ApiError(102)) : Promise.resolve({ offset: 1, epoch: 'e' }));
      const r = await post(env, '/api/broadcast', { channels: ['a', 'bad', '', 'b'], data: { x: 1 } });
      assert.deepEqual(JSON.parse(r.text), {
        result: {
          responses: [
            { result: { offset: 1, epoch: 'e' } },
            { error: { code: 102, message: 'unknown channel' } },
            { error: { code: 107, message: 'bad request' } },
            { result: { offset: 1, epoch: 'e' } },
          ],
        },
      });
    });

    it('batch replies have no result wrapper and keep transport mode out', async () => {
      env.node.publishImpl = (ch) => (ch === 'bad' ? Promise.reject(new ApiError(102)) : Promise.resolve({}));
      for (const parallel of [false, true]) {
        const r = await post(
          env,
          '/api/batch',
          { commands: [{ publish: { channel: 'a', data: {} } }, { publish: { channel: 'bad', data: {} } }, null, { nope: {} }, { presence_stats: { channel: 'p' } }], parallel },
          { 'X-API-Key': KEY, 'X-Centrifugo-Error-Mode': 'transport' },
        );
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.text), {
          replies: [
            { publish: {} },
            { error: { code: 102, message: 'unknown channel' } },
            { error: { code: 107, message: 'bad request' } },
            { error: { code: 104, message: 'not found' } },
            { presence_stats: { num_clients: 2, num_users: 1 } },
          ],
        });
      }
    });

    it('presence, history, channels and info render raw JSON and omit empty fields', async () => {
      assert.equal(
        (await post(env, '/api/presence', { channel: 'c' })).text,
        '{"result":{"presence":{"c1":{"user":"42","client":"c1","conn_info":{"name":"a"}},"c2":{"user":"","client":"c2"}}}}',
      );
      const h = await post(env, '/api/history', { channel: 'c', limit: -1, since: { offset: 3, epoch: 'abcd' }, reverse: true });
      assert.equal(
        h.text,
        '{"result":{"publications":[{"data":{"text":"hi"},"offset":7,"tags":{"k":"v"}},{"b64data":"/wA=","info":{"user":"u","client":"c"},"offset":8}],"epoch":"abcd","offset":8}}',
      );
      assert.deepEqual(env.node.calls.at(-1)?.args, ['c', { limit: -1, since: { offset: 3, epoch: 'abcd' }, reverse: true }]);
      assert.equal((await post(env, '/api/channels', { pattern: 'c*' })).text, '{"result":{"channels":{"chat":{"num_clients":2},"empty":{}}}}');
      assert.deepEqual(env.node.calls.at(-1)?.args, ['c*']);
      assert.equal(
        (await post(env, '/api/info', {})).text,
        '{"result":{"nodes":[{"uid":"u1","name":"n1","version":"0.1.0 Gyre","num_clients":1,"num_users":1,"num_channels":1,"num_subs":1}]}}',
      );
    });

    it('subscribe, unsubscribe, disconnect and refresh pass their targets', async () => {
      await post(env, '/api/subscribe', {
        user: 'u',
        channel: 'c',
        client: 'cl',
        info: { a: 1 },
        b64data: Buffer.from('d').toString('base64'),
        recover_since: { offset: 2, epoch: 'e' },
        expire_at: 99,
        override: { presence: { value: false }, join_leave: { value: true } },
      });
      const sub = env.node.calls[0]?.args[0] as Record<string, unknown>;
      assert.equal(Buffer.from(sub['info'] as Uint8Array).toString(), '{"a":1}');
      assert.equal(Buffer.from(sub['data'] as Uint8Array).toString(), 'd');
      assert.deepEqual({ ...sub, info: undefined, data: undefined }, {
        user: 'u',
        channel: 'c',
        client: 'cl',
        info: undefined,
        data: undefined,
        recoverSince: { offset: 2, epoch: 'e' },
        expireAt: 99,
        override: { presence: false, join_leave: true },
      });
      await post(env, '/api/unsubscribe', { user: 'u', channel: 'c', session: 's' });
      assert.deepEqual(env.node.calls[1]?.args[0], { user: 'u', channel: 'c', session: 's' });
      await post(env, '/api/disconnect', { user: 'u', whitelist: ['x'], disconnect: { code: 4000, reason: 'bye' } });
      assert.deepEqual(env.node.calls[2]?.args[0], { user: 'u', whitelist: ['x'], code: 4000, reason: 'bye' });
      await post(env, '/api/refresh', { user: 'u', client: 'c', expired: true, expire_at: 5 });
      assert.deepEqual(env.node.calls[3]?.args[0], { user: 'u', client: 'c', expired: true, expireAt: 5 });
    });

    it('rpc: 107 without method, 104 for any method', async () => {
      assert.equal(JSON.parse((await post(env, '/api/rpc', {})).text).error.code, 107);
      assert.equal(JSON.parse((await post(env, '/api/rpc', { method: 'x', params: {} })).text).error.code, 104);
    });

    it('legacy endpoint: newline-delimited commands, 400 on empty body, 503 while shutting down', async () => {
      const body = '{"id":1,"method":"publish","params":{"channel":"c","data":{}}}\n{"id":2,"method":"nope","params":{}}\n{"id":3,"method":"presence_stats","params":{"channel":1}}';
      const r = await post(env, '/api', body);
      assert.equal(r.status, 200);
      assert.deepEqual(r.text.split('\n').map((l) => JSON.parse(l) as unknown), [
        { id: 1, result: {} },
        { id: 2, error: { code: 104, message: 'not found' } },
        { id: 3, error: { code: 107, message: 'bad request' } },
      ]);
      assert.equal((await post(env, '/api', '')).status, 400);
      env.shuttingDown = true;
      assert.equal((await post(env, '/api', body)).status, 503);
      env.shuttingDown = false;
    });
  });

  describe(`server API configuration (${via})`, () => {
    it('an empty configured key rejects everything with 401', async () => {
      const env = await start(via, { key: '' });
      try {
        assert.equal((await post(env, '/api/info', {}, { 'X-API-Key': '' })).status, 401);
        assert.equal((await post(env, '/api/info', {}, {})).status, 401);
      } finally {
        await stop(env);
      }
    });

    it('insecure skips auth; error_mode transport applies to every request', async () => {
      const env = await start(via, { key: '', insecure: true, error_mode: 'transport' });
      try {
        const r = await post(env, '/api/publish', { channel: 'c' }, {});
        assert.equal(r.status, 400);
        assert.deepEqual(JSON.parse(r.text), { code: 107, message: 'bad request' });
      } finally {
        await stop(env);
      }
    });

    it('answers 413 for bodies over the limit', async () => {
      const env = await start(via, {}, 100);
      try {
        assert.equal((await post(env, '/api/publish', { channel: 'c', data: 'x'.repeat(200) })).status, 413);
      } finally {
        await stop(env);
      }
    });
  });
}

suite('http.Server');
suite('front');
