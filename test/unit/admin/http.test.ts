// Admin endpoints through a real server (startServer): Centrifugo's routes, token auth, throttle, internal port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config/index.js';
import type { GyreConfig } from '../../../src/config/types.js';
import { issueAdminToken } from '../../../src/admin/token.js';
import { freePort } from '../../harness/ports.js';

const PASSWORD = 'correct horse';
const SECRET = 'admin-secret';

function config(o: Partial<GyreConfig['admin']> = {}, internalPort = 0): GyreConfig {
  const c = defaultConfig();
  c.http_server.address = '127.0.0.1';
  c.http_server.port = 0;
  c.http_server.warmup_connections = 0;
  c.http_server.internal_port = internalPort;
  c.client.insecure = true;
  c.shutdown.timeout = 1000;
  c.admin = { ...c.admin, enabled: true, password: PASSWORD, secret: SECRET, ...o };
  return c;
}

const login = (base: string, password: string) =>
  fetch(`${base}/admin/auth`, { method: 'POST', body: new URLSearchParams({ password }) });

describe('admin endpoints', () => {
  let srv: RunningServer;
  let base: string;
  before(async () => {
    srv = await startServer(config(), { logger: pino({ level: 'silent' }) });
    base = `http://127.0.0.1:${srv.port}`;
  });
  after(() => srv.close());

  it('init says whether the request is authenticated', async () => {
    const anon = await (await fetch(`${base}/admin/init`)).json();
    assert.deepEqual(anon, { insecure: false, edition: 'oss', authenticated: false });
    const token = issueAdminToken(SECRET, 60_000);
    const authed = (await (await fetch(`${base}/admin/init`, { headers: { Authorization: `token ${token}` } })).json()) as { authenticated: boolean };
    assert.equal(authed.authenticated, true);
  });

  it('auth: the right password gives a working token; admin api runs commands with it', async () => {
    const r = await login(base, PASSWORD);
    assert.equal(r.status, 200);
    const { token } = (await r.json()) as { token: string };
    const api = await fetch(`${base}/admin/api`, {
      method: 'POST',
      headers: { Authorization: `token ${token}` },
      body: JSON.stringify({ method: 'info', params: {} }),
    });
    assert.equal(api.status, 200);
    const reply = (await api.json()) as { result: { nodes: { num_clients: number }[] } };
    assert.equal(reply.result.nodes.length, 1);
    // JSON bodies work too
    const j = await fetch(`${base}/admin/auth`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(j.status, 200);
  });

  it('admin api refuses no token, a bad token, an expired one, and an API key', async () => {
    const body = JSON.stringify({ method: 'info', params: {} });
    const cases: Record<string, string>[] = [
      {},
      { Authorization: 'token nope' },
      { Authorization: `token ${issueAdminToken('other-secret', 60_000)}` },
      { Authorization: `token ${issueAdminToken(SECRET, -1)}` },
      { Authorization: `bearer ${issueAdminToken(SECRET, 60_000)}` },
      { 'X-API-Key': SECRET },
    ];
    for (const headers of cases) {
      const r = await fetch(`${base}/admin/api`, { method: 'POST', headers, body });
      assert.equal(r.status, 401, JSON.stringify(headers));
    }
    assert.equal((await fetch(`${base}/admin/api`)).status, 405);
    assert.equal((await fetch(`${base}/admin/live`)).status, 401);
    assert.equal((await fetch(`${base}/admin/connections`, { method: 'POST', body: '{"user":"u"}' })).status, 401);
  });

  it('wrong passwords are refused (400), then throttled per IP (429 with Retry-After), even the right one', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login(base, `wrong${i}`)).status, 400);
    const blocked = await login(base, PASSWORD);
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
  });
});

describe('admin placement and modes', () => {
  it('is served on the internal port when one is set, not on the main one; external puts it back', async () => {
    const logger = pino({ level: 'silent' });
    const srv = await startServer(config({}, await freePort()), { logger });
    try {
      assert.notEqual(srv.port, srv.internalPort);
      assert.equal((await fetch(`http://127.0.0.1:${srv.internalPort}/admin/init`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${srv.port}/admin/init`)).status, 404);
    } finally {
      await srv.close();
    }
    const ext = await startServer(config({ external: true, handler_prefix: '/ops/' }, await freePort()), { logger });
    try {
      assert.equal((await fetch(`http://127.0.0.1:${ext.port}/ops/admin/init`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${ext.internalPort}/ops/admin/init`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${ext.port}/admin/init`)).status, 404);
    } finally {
      await ext.close();
    }
  });

  it('insecure mode needs no token; without password/secret every login fails', async () => {
    const logger = pino({ level: 'silent' });
    const srv = await startServer(config({ insecure: true, password: '', secret: '' }), { logger });
    try {
      const base = `http://127.0.0.1:${srv.port}`;
      assert.equal(((await (await fetch(`${base}/admin/init`)).json()) as { authenticated: boolean }).authenticated, true);
      const r = await fetch(`${base}/admin/api`, { method: 'POST', body: '{"method":"channels","params":{}}' });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { result: { channels: {} } });
      assert.equal((await login(base, '')).status, 400);
    } finally {
      await srv.close();
    }
  });
});
