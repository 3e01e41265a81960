// ConfigReloader (cli/reload.ts): loads like start-up, applies live keys, keeps the running config on bad input,
// logs restart-only keys and counts every reload by result.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ConfigReloader, reloadOnSighup } from '../../../src/cli/reload.js';
import { loadConfig, type GyreConfig } from '../../../src/config/index.js';
import { metrics } from '../../../src/metrics/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'gyre-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'config.json');

interface Line {
  msg: string;
  level: number;
  key?: string;
  reason?: string;
}

function setup(initial: Record<string, unknown>, logWarnings?: boolean) {
  writeFileSync(file, JSON.stringify(initial));
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const load = () => loadConfig({ file, env: {}, flags: { 'http_server.port': '8123' } });
  const applied: Array<Readonly<GyreConfig>> = [];
  const reloader = new ConfigReloader({ initial: load().config, load, logger, ...(logWarnings === undefined ? {} : { logWarnings }) });
  return { reloader, lines, applied, logger, write: (c: Record<string, unknown> | string) => writeFileSync(file, typeof c === 'string' ? c : JSON.stringify(c)) };
}

async function count(result: string): Promise<number> {
  const m = await metrics.configReloads.get();
  return m.values.find((v) => v.labels['result'] === result)?.value ?? 0;
}

describe('ConfigReloader', () => {
  beforeEach(() => metrics.configReloads.reset());

  it("logs the reloaded file's warnings, unless told not to (the workers after the first)", () => {
    for (const logWarnings of [undefined, true, false]) {
      const t = setup({ client: { token: { hmac_secret_key: 'a' } } }, logWarnings);
      t.reloader.attach((c) => t.applied.push(c));
      t.write({ client: { token: { hmac_secret_key: 'a' } }, no_such_key_here: 1 });
      assert.equal(t.reloader.reload(), 'ok');
      const warned = t.lines.filter((l) => l.level === 40 && l.msg.includes('no_such_key_here'));
      assert.equal(warned.length, logWarnings === false ? 0 : 1, `logWarnings ${String(logWarnings)}: ${JSON.stringify(t.lines)}`);
      assert.ok(t.lines.some((l) => l.msg === 'configuration reloaded'));
    }
  });

  it('applies live keys, keeps restart-only ones and logs each of them', async () => {
    const t = setup({ client: { token: { hmac_secret_key: 'a' } } });
    t.reloader.attach((c) => t.applied.push(c));
    t.write({ client: { token: { hmac_secret_key: 'b' } }, engine: { type: 'memory' }, websocket: { compression: true }, log: { level: 'debug' } });
    assert.equal(t.reloader.reload(), 'ok');
    assert.equal(t.applied.length, 1);
    assert.equal(t.applied[0]?.client.token.hmac_secret_key, 'b');
    assert.equal(t.applied[0]?.websocket.compression, false);
    // Flags are applied again, the same way as at start-up.
    assert.equal(t.applied[0]?.http_server.port, 8123);
    assert.equal(t.reloader.config, t.applied[0]);
    assert.equal(t.logger.level, 'debug');
    assert.deepEqual(
      t.lines.filter((l) => l.msg.includes('requires restart')).map((l) => l.key),
      ['websocket.compression'],
    );
    assert.equal(await count('ok'), 1);
  });

  it('rejects a syntax error and an invalid value with the key path, changing nothing', async () => {
    const t = setup({ client: { token: { hmac_secret_key: 'a' } } });
    t.reloader.attach((c) => t.applied.push(c));
    const before = t.reloader.config;
    t.write('{"client": ');
    assert.equal(t.reloader.reload(), 'invalid');
    t.write({ client: { channel_limit: -1 } });
    assert.equal(t.reloader.reload(), 'invalid');
    const rejected = t.lines.filter((l) => l.msg.startsWith('config reload rejected'));
    assert.equal(rejected.length, 2);
    assert.equal(rejected[1]?.key, 'client.channel_limit');
    assert.equal(t.applied.length, 0);
    assert.equal(t.reloader.config, before);
    assert.equal(await count('invalid'), 2);
  });

  it('keeps the running config when the server cannot apply the new one', async () => {
    const t = setup({});
    t.reloader.attach(() => {
      throw new Error('cannot build the token verifier');
    });
    const before = t.reloader.config;
    t.write({ client: { token: { hmac_secret_key: 'z' } } });
    assert.equal(t.reloader.reload(), 'error');
    assert.equal(t.reloader.config, before);
    assert.equal(await count('error'), 1);
  });

  it('defers a SIGHUP during start-up to attach(), ignores one during shutdown', () => {
    const t = setup({});
    const signals = new EventEmitter();
    const stop = reloadOnSighup(signals, t.reloader);
    t.write({ channel: { namespaces: [{ name: 'late' }] } });
    signals.emit('SIGHUP');
    assert.equal(t.applied.length, 0);
    t.reloader.attach((c) => t.applied.push(c));
    assert.deepEqual(t.applied[0]?.channel.namespaces.map((n) => n.name), ['late']);
    t.reloader.close();
    signals.emit('SIGHUP');
    assert.equal(t.applied.length, 1);
    stop();
    assert.equal(signals.listenerCount('SIGHUP'), 0);
  });
});
