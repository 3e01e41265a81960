// serve(): config errors, pid file, start, graceful close on signals and the shutdown watchdog, with a fake app.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import type { GyreConfig } from '../../../src/config/types.js';
import { serve, type ServeDeps } from '../../../src/cli/serve.js';
import { rootFlags } from '../../../src/cli/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gyre-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fixture = new URL('../../fixtures/config.json', import.meta.url).pathname;

interface Harness {
  deps: ServeDeps;
  signals: EventEmitter;
  exits: number[];
  stderr: string[];
  started: Array<Readonly<GyreConfig>>;
  closes: number;
  /** Start-up steps in order: 'warmup' then 'start'. */
  steps: string[];
}

/** `app` is the app module itself, or a function of the harness that returns it. */
function harness(app: unknown): Harness {
  const h: Harness = {
    signals: new EventEmitter(),
    exits: [],
    stderr: [],
    started: [],
    closes: 0,
    steps: [],
    deps: undefined as unknown as ServeDeps,
  };
  h.deps = {
    importApp: () => Promise.resolve(typeof app === 'function' ? (app as (h: Harness) => unknown)(h) : app),
    exit: (code) => h.exits.push(code),
    stderr: (line) => h.stderr.push(line),
    signals: h.signals,
    logger: pino({ level: 'silent' }),
    warmUp: (config) => {
      h.steps.push(`warmup:${config.http_server.warmup_connections}`);
      return Promise.resolve(null);
    },
    checkPorts: () => Promise.resolve(undefined),
  };
  return h;
}

function fakeApp(h: Harness, closeImpl: () => Promise<void> = () => Promise.resolve()) {
  return {
    startServer: (config: Readonly<GyreConfig>) => {
      h.started.push(config);
      h.steps.push('start');
      return Promise.resolve({
        port: config.http_server.port,
        close: () => {
          h.closes++;
          return closeImpl();
        },
      });
    },
  };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not reached');
}

describe('serve', () => {
  it('config error ⇒ `config error: <path>: <reason>` and exit 1, app never imported', async () => {
    let imported = false;
    const h = harness(() => {
      imported = true;
      return {};
    });
    await serve({ file: fixture, flags: { 'client.pong_timeout': '1h' } }, h.deps);
    assert.deepEqual(h.exits, [1]);
    assert.match(h.stderr[0] ?? '', /^config error: client\.ping_interval: /);
    assert.equal(imported, false);
  });

  it('a module without startServer ⇒ exit 1', async () => {
    const h = harness({});
    await serve({ file: fixture, flags: {} }, h.deps);
    assert.deepEqual(h.exits, [1]);
  });

  it('starts with flags applied, writes the pid file, closes on SIGTERM and exits 0', async () => {
    const pidFile = join(dir, 'gyre.pid');
    const h = harness((x: Harness) => fakeApp(x));
    const done = serve({ file: fixture, flags: { 'http_server.port': '9555', pid_file: pidFile } }, h.deps);
    await until(() => h.started.length === 1);
    assert.equal(h.started[0]?.http_server.port, 9555);
    assert.deepEqual(h.steps, ['warmup:500', 'start'], 'the warm-up runs (default 500) before the real server starts');
    assert.ok(Object.isFrozen(h.started[0]));
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(process.pid));
    h.signals.emit('SIGTERM', 'SIGTERM');
    await done;
    assert.equal(h.closes, 1);
    assert.deepEqual(h.exits, [0]);
    assert.equal(existsSync(pidFile), false);
    assert.equal(h.signals.listenerCount('SIGTERM') + h.signals.listenerCount('SIGINT'), 0);
  });

  it('SIGHUP reloads the same file with the same flags into the running server, and stops with it', async () => {
    const file = join(dir, 'reload.json');
    writeFileSync(file, JSON.stringify({ client: { token: { hmac_secret_key: 'one' } } }));
    const h = harness({});
    const reconfigured: Array<Readonly<GyreConfig>> = [];
    const app = fakeApp(h);
    h.deps.importApp = () =>
      Promise.resolve({
        startServer: async (c: Readonly<GyreConfig>) => ({ ...(await app.startServer(c)), reconfigure: (n: Readonly<GyreConfig>) => reconfigured.push(n) }),
      });
    const done = serve({ file, flags: { 'http_server.port': '9556' } }, h.deps);
    await until(() => h.started.length === 1);
    writeFileSync(file, JSON.stringify({ client: { token: { hmac_secret_key: 'two' } } }));
    h.signals.emit('SIGHUP', 'SIGHUP');
    assert.equal(reconfigured.length, 1);
    assert.equal(reconfigured[0]?.client.token.hmac_secret_key, 'two');
    assert.equal(reconfigured[0]?.http_server.port, 9556);
    h.signals.emit('SIGTERM', 'SIGTERM');
    await done;
    assert.deepEqual(h.exits, [0]);
    assert.equal(h.signals.listenerCount('SIGHUP'), 0);
  });

  it('the shutdown watchdog exits 1 when close() hangs past shutdown.timeout', async () => {
    const h = harness((x: Harness) => fakeApp(x, () => new Promise<void>(() => {})));
    const done = serve({ file: fixture, flags: { 'shutdown.timeout': '20ms' } }, h.deps);
    await until(() => h.started.length === 1);
    h.signals.emit('SIGTERM', 'SIGTERM');
    await done;
    assert.equal(h.closes, 1);
    assert.deepEqual(h.exits, [1]);
  });

  // The ports answer before the start has finished (consumers start after them): a SIGTERM then must not meet
  // Node's default action (the process killed by the signal) but shut the server down once it is up.
  it('a SIGTERM while the server is still starting shuts it down once started and exits 0', async () => {
    const h = harness({});
    const app = fakeApp(h);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    h.deps.importApp = () =>
      Promise.resolve({
        startServer: async (c: Readonly<GyreConfig>) => {
          const s = await app.startServer(c);
          await gate;
          return s;
        },
      });
    const done = serve({ file: fixture, flags: {} }, h.deps);
    await until(() => h.started.length === 1);
    assert.equal(h.signals.listenerCount('SIGTERM'), 1, 'handled while starting');
    h.signals.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([h.closes, h.exits], [0, []], 'nothing to close before the start is done');
    release();
    await done;
    assert.equal(h.closes, 1);
    assert.deepEqual(h.exits, [0]);
    assert.equal(h.signals.listenerCount('SIGTERM') + h.signals.listenerCount('SIGINT'), 0);
  });

  it('a start that outlives shutdown.timeout after a SIGTERM ends with exit 1 (the watchdog runs from the signal)', async () => {
    const h = harness({});
    h.deps.importApp = () =>
      Promise.resolve({
        startServer: (c: Readonly<GyreConfig>) => {
          h.started.push(c);
          return new Promise<never>(() => {});
        },
      });
    const done = serve({ file: fixture, flags: { 'shutdown.timeout': '20ms' } }, h.deps);
    await until(() => h.started.length === 1);
    h.signals.emit('SIGTERM', 'SIGTERM');
    await done;
    assert.deepEqual(h.exits, [1]);
  });

  it('a second signal during shutdown forces exit 1', async () => {
    const h = harness((x: Harness) => fakeApp(x, () => new Promise<void>(() => {})));
    const done = serve({ file: fixture, flags: {} }, h.deps);
    await until(() => h.started.length === 1);
    h.signals.emit('SIGINT', 'SIGINT');
    h.signals.emit('SIGINT', 'SIGINT');
    await done;
    assert.deepEqual(h.exits, [1]);
  });

  it('a close() failure exits 1', async () => {
    const h = harness((x: Harness) => fakeApp(x, () => Promise.reject(new Error('boom'))));
    const done = serve({ file: fixture, flags: {} }, h.deps);
    await until(() => h.started.length === 1);
    h.signals.emit('SIGTERM', 'SIGTERM');
    await done;
    assert.deepEqual(h.exits, [1]);
  });

  it('maps root options to config flags (including --port/--address aliases)', () => {
    assert.deepEqual(rootFlags({ port: '1', address: '::1', 'log.level': 'debug', 'client.insecure': true, config: 'x' }), {
      'http_server.port': '1',
      'http_server.address': '::1',
      'log.level': 'debug',
      'client.insecure': true,
    });
  });
});
