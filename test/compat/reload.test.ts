// SIGHUP reloads the configuration of a running `node bin/gyre.js` (docs/reload.md): a new HMAC secret and a new
// namespace apply while a centrifuge-js client stays connected; a file with a syntax error or an invalid value
// leaves the running config in place; a changed port is logged as requiring a restart and the old port stays;
// SIGTERM still shuts down gracefully afterwards.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Centrifuge } from 'centrifuge';
import { API_KEY, callApi, ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';
import { connToken, TEST_HMAC_SECRET } from '../harness/tokens.js';
import { nextEvent, waitFor, withTimeout } from '../harness/wait.js';
import { subscribeOutcome } from './outcome.js';

const NEW_SECRET = 'gyre-reload-test-secret-after-sighup-42';
const NEW_API_KEY = 'gyre-reload-test-api-key-after-sighup';

interface LogLine {
  msg?: string;
  key?: string;
  reason?: string;
  applied?: string[];
  requiresRestart?: string[];
}

const RESULT_LINES = new Set([
  'configuration reloaded',
  'config reload rejected: keeping the running configuration',
  'config reload failed: keeping the running configuration',
]);

function logLines(g: GyreProcess): LogLine[] {
  const out: LogLine[] = [];
  for (const line of g.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      /* a line cut by the capture limit */
    }
  }
  return out;
}

function resultLines(g: GyreProcess): LogLine[] {
  return logLines(g).filter((l) => l.msg !== undefined && RESULT_LINES.has(l.msg));
}

function config(over: Record<string, unknown>): Record<string, unknown> {
  return mergeConfig(
    {
      log: { level: 'info' },
      client: { token: { hmac_secret_key: TEST_HMAC_SECRET } },
      http_api: { key: API_KEY },
      health: { enabled: true },
      prometheus: { enabled: true },
      shutdown: { timeout: '5s' },
      channel: { namespaces: [{ name: 'open', allow_subscribe_for_client: true }] },
    },
    over,
  );
}

describe('compat: SIGHUP reloads the configuration', () => {
  let gyre: GyreProcess;
  let fileConfig: Record<string, unknown>;
  const pool = new ClientPool();
  let first: Centrifuge;
  /** Transport closes / state changes of the first client (must stay empty through every reload). */
  let firstDrops: unknown[];

  /** Writes `cfg` (or raw text) to the config file, sends SIGHUP and returns the reload's result line. */
  async function reloadWith(content: Record<string, unknown> | string): Promise<LogLine> {
    const before = resultLines(gyre).length;
    writeFileSync(gyre.configFile, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    process.kill(gyre.pid, 'SIGHUP');
    const line = await waitFor(() => resultLines(gyre)[before], { what: 'the reload result log line', timeoutMs: 15_000 });
    return line;
  }

  async function connectOutcome(secret: string, user: string): Promise<{ connected: boolean; client: Centrifuge }> {
    const { client } = pool.json(gyre.url, { token: await connToken({ sub: user, expIn: 3600 }, secret), maxReconnectDelay: 5000 });
    const settled = new Promise<boolean>((resolve) => {
      client.once('connected', () => resolve(true));
      client.once('disconnected', () => resolve(false));
      // A bad token is a terminal 3500 disconnect for centrifuge-js; anything else counts as not connected too.
      client.once('connecting', (ctx: { code: number }) => {
        if (ctx.code !== 0) resolve(false);
      });
    });
    client.connect();
    const connected = await withTimeout(settled, 10_000, `connect outcome of ${user}`);
    return { connected, client };
  }

  async function reloadMetric(result: string): Promise<number> {
    const res = await fetch(`${gyre.baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    const m = new RegExp(`^gyre_config_reloads_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text);
    return m === null ? 0 : Number(m[1]);
  }

  before(async () => {
    fileConfig = config({});
    gyre = await startGyre(fileConfig, { bin: true, portInFile: true });
    fileConfig = mergeConfig(fileConfig, { http_server: { port: gyre.port, address: '127.0.0.1' } });
    const c = await connectOutcome(TEST_HMAC_SECRET, 'stayer');
    assert.equal(c.connected, true, gyre.stdout());
    first = c.client;
    firstDrops = [];
    first.on('connecting', (ctx) => firstDrops.push(ctx));
    first.on('disconnected', (ctx) => firstDrops.push(ctx));
    assert.equal((await subscribeOutcome(first.newSubscription('open:before'))).kind, 'subscribed');
  });

  after(async () => {
    pool.closeAll();
    await gyre?.stop('SIGKILL');
  });

  it('applies a new HMAC secret and a new namespace while the first client stays connected', async () => {
    fileConfig = mergeConfig(fileConfig, {
      client: { token: { hmac_secret_key: NEW_SECRET } },
      http_api: { key: NEW_API_KEY },
      channel: {
        namespaces: [
          { name: 'open', allow_subscribe_for_client: true },
          { name: 'fresh', allow_subscribe_for_client: true },
        ],
      },
    });
    const line = await reloadWith(fileConfig);
    assert.equal(line.msg, 'configuration reloaded', gyre.stdout());
    assert.deepEqual([...(line.applied ?? [])].sort(), ['channel.namespaces', 'client.token.hmac_secret_key', 'http_api.key']);
    assert.deepEqual(line.requiresRestart, []);

    // A new client with a token of the new secret connects and subscribes to the new namespace...
    const second = await connectOutcome(NEW_SECRET, 'newcomer');
    assert.equal(second.connected, true, gyre.stdout());
    const sub = second.client.newSubscription('fresh:room');
    assert.equal((await subscribeOutcome(sub)).kind, 'subscribed');
    // ...and a token of the old secret no longer does.
    const old = await connectOutcome(TEST_HMAC_SECRET, 'latecomer');
    assert.equal(old.connected, false);
    old.client.disconnect();

    // The first client kept its connection and its subscription, and its new commands see the new namespace.
    assert.equal(first.state, 'connected');
    const got = nextEvent<{ data: unknown }>(first.getSubscription('open:before') ?? assert.fail('no sub'), 'publication');
    assert.equal((await callApi(gyre.apiUrl, 'info', {})).status, 401, 'the old API key is refused');
    assert.equal((await callApi(gyre.apiUrl, 'publish', { channel: 'open:before', data: { n: 1 } }, { key: NEW_API_KEY })).status, 200);
    assert.deepEqual((await got).data, { n: 1 });
    assert.equal((await subscribeOutcome(first.newSubscription('fresh:too'))).kind, 'subscribed');
    assert.deepEqual(firstDrops, []);
    assert.equal(await reloadMetric('ok'), 1);
  });

  it('keeps the running config when the new file has a syntax error or an invalid value', async () => {
    const broken = await reloadWith('{"client": {"token": {"hmac_secret_key": "x"}');
    assert.equal(broken.msg, 'config reload rejected: keeping the running configuration');
    assert.match(broken.reason ?? '', /config\.json/);

    const invalid = mergeConfig(fileConfig, {
      client: { token: { hmac_secret_key: 'not-used-secret' } },
      channel: {
        namespaces: [
          { name: 'open', allow_subscribe_for_client: true },
          { name: 'bad name', allow_subscribe_for_client: true },
        ],
      },
    });
    const rejected = await reloadWith(invalid);
    assert.equal(rejected.msg, 'config reload rejected: keeping the running configuration');
    assert.equal(rejected.key, 'channel.namespaces[1].name');

    // Still running on the config of the last good reload: its secret works, the rejected one does not.
    const ok = await connectOutcome(NEW_SECRET, 'still-works');
    assert.equal(ok.connected, true);
    assert.equal((await subscribeOutcome(ok.client.newSubscription('fresh:still'))).kind, 'subscribed');
    const no = await connectOutcome('not-used-secret', 'rejected-secret');
    assert.equal(no.connected, false);
    no.client.disconnect();
    assert.equal(first.state, 'connected');
    assert.deepEqual(firstDrops, []);
    assert.equal(await reloadMetric('invalid'), 2);
  });

  it('logs "requires restart" for a changed port and keeps listening on the old one', async () => {
    const otherPort = await freePort();
    const line = await reloadWith(mergeConfig(fileConfig, { http_server: { port: otherPort } }));
    assert.equal(line.msg, 'configuration reloaded');
    assert.deepEqual(line.requiresRestart, ['http_server.port']);
    const restartLines = logLines(gyre).filter((l) => l.msg?.includes('requires restart') === true);
    assert.deepEqual(
      restartLines.map((l) => l.key),
      ['http_server.port'],
    );
    assert.equal((await fetch(`${gyre.baseUrl}/health`, { signal: AbortSignal.timeout(5000) })).status, 200);
    await assert.rejects(fetch(`http://127.0.0.1:${otherPort}/health`, { signal: AbortSignal.timeout(2000) }));
    assert.equal(first.state, 'connected');
    assert.deepEqual(firstDrops, []);
  });

  it('still shuts down gracefully on SIGTERM: 3001 to the connected client, exit code 0', async () => {
    const connecting = nextEvent<{ code: number; reason: string }>(first, 'connecting', 10_000);
    const exit = await gyre.stop('SIGTERM', 8000);
    assert.deepEqual(exit, { code: 0, signal: null }, gyre.stdout());
    const ctx = await connecting;
    assert.deepEqual({ code: ctx.code, reason: ctx.reason }, { code: 3001, reason: 'shutdown' });
    first.disconnect();
  });
});
