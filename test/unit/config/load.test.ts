import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, defaultConfig, loadConfig, toFileShape } from '../../../src/config/index.js';

const fixtures = new URL('../../fixtures/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gyre-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig: files', () => {
  it('reads json, yaml and toml fixtures to the same config', () => {
    const json = loadConfig({ file: join(fixtures, 'config.json'), env: {} });
    const yaml = loadConfig({ file: join(fixtures, 'config.yaml'), env: {} });
    const toml = loadConfig({ file: join(fixtures, 'config.toml'), env: {} });
    assert.deepEqual(yaml.config, json.config);
    assert.deepEqual(toml.config, json.config);
    assert.deepEqual(json.warnings, []);
    assert.equal(json.file, join(fixtures, 'config.json'));
    const c = json.config;
    assert.equal(c.http_server.port, 9100);
    assert.equal(c.http_server.internal_port, 9101);
    assert.equal(c.http_server.backlog, 65535);
    assert.equal(c.log.level, 'debug');
    assert.equal(c.client.ping_interval, 20_000);
    assert.equal(c.client.pong_timeout, 5000);
    assert.equal(c.client.expired_close_delay, 25_000);
    assert.deepEqual(c.client.allowed_origins, ['http://localhost:3000', 'https://example.com']);
    assert.equal(c.channel.without_namespace.history_ttl, 300_000);
    assert.equal(c.channel.namespaces.length, 2);
    assert.equal(c.channel.namespaces[0]?.name, 'chat');
    assert.equal(c.channel.namespaces[0]?.history_ttl, 5_400_000);
    assert.equal(c.channel.namespaces[0]?.force_recovery, true);
    assert.equal(c.channel.namespaces[1]?.history_size, 0);
    assert.deepEqual(c.channel.namespaces[1]?.allowed_delta_types, ['fossil']);
    assert.equal(c.websocket.write_timeout, 500);
    assert.equal(c.shutdown.timeout, 5000);
  });

  it('uses defaults when no file is given and config.json is absent', () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = loadConfig({ env: {} });
      assert.equal(r.file, undefined);
      assert.deepEqual(r.config, defaultConfig());
      assert.equal(r.config.http_server.port, 8000);
      assert.equal(r.config.channel.history_meta_ttl, 720 * 3_600_000);
      assert.equal(r.config.engine.type, 'memory');
    } finally {
      process.chdir(cwd);
    }
  });

  it('fails for an explicitly given missing file', () => {
    assert.equal(configError(() => loadConfig({ file: join(dir, 'nope.json'), env: {} })).code, 'file_not_found');
  });

  it('fails on malformed files and unknown extensions', () => {
    assert.equal(configError(() => loadConfig({ file: write('bad.json', '{"a":'), env: {} })).code, 'file_parse');
    assert.equal(configError(() => loadConfig({ file: write('bad.toml', 'a = = 1'), env: {} })).code, 'file_parse');
    assert.equal(configError(() => loadConfig({ file: write('list.yaml', '- 1\n- 2\n'), env: {} })).code, 'file_parse');
    assert.equal(configError(() => loadConfig({ file: write('c.ini', 'x=1'), env: {} })).code, 'file_format');
  });

  it('reports bad values with their key path', () => {
    const e1 = configError(() => loadConfig({ file: write('p.json', '{"http_server":{"port":"x"}}'), env: {} }));
    assert.equal(e1.code, 'invalid_value');
    assert.equal(e1.path, 'http_server.port');
    const e2 = configError(() => loadConfig({ file: write('d.json', '{"client":{"ping_interval":30}}'), env: {} }));
    assert.equal(e2.path, 'client.ping_interval');
    assert.match(e2.reason, /only for 0/);
    const e3 = configError(() =>
      loadConfig({ file: write('n.json', '{"channel":{"namespaces":[{"name":"ok"},{"name":"x2","presence":"yes"}]}}'), env: {} }),
    );
    assert.equal(e3.path, 'channel.namespaces[1].presence');
    const e4 = configError(() => loadConfig({ file: write('l.json', '{"log":{"level":"loud"}}'), env: {} }));
    assert.equal(e4.path, 'log.level');
    const e5 = configError(() => loadConfig({ file: write('p2.json', '{"http_server":{"port":70000}}'), env: {} }));
    assert.equal(e5.path, 'http_server.port');
  });

  it('warns about unknown keys with their paths (file and env)', () => {
    const file = write(
      'u.json',
      JSON.stringify({ port: 8000, client: { tokn: {}, token: { hmac_secret: 'x' } }, channel: { namespaces: [{ name: 'ab', presense: true }] } }),
    );
    const r = loadConfig({ file, env: { CENTRIFUGO_CLIENT_NOPE: '1', GYRE_TEST: '1', CENTRIFUGO_SERVICE_HOST: 'h' } });
    assert.deepEqual(r.warnings.sort(), [
      'unknown config key channel.namespaces[0].presense',
      'unknown config key client.token.hmac_secret',
      'unknown config key client.tokn',
      'unknown config key port',
      'unknown environment variable CENTRIFUGO_CLIENT_NOPE',
    ]);
  });

  it('does not warn about GYRE_WORKER_SLOT, which the primary sets in every worker it forks', () => {
    const file = write('slot.json', JSON.stringify({}));
    const r = loadConfig({ file, env: { GYRE_WORKER_SLOT: '2' } });
    assert.deepEqual(r.warnings, []);
  });

  it('returns a deep-frozen config', () => {
    const { config } = loadConfig({ file: join(fixtures, 'config.json'), env: {} });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.client.token));
    assert.ok(Object.isFrozen(config.channel.namespaces));
    assert.ok(Object.isFrozen(config.channel.namespaces[0]));
    assert.ok(Object.isFrozen(config.client.allowed_origins));
    assert.throws(() => {
      (config.http_server as { port: number }).port = 1;
    }, TypeError);
  });

  it('renders the default tree back with duration strings', () => {
    const shape = toFileShape(defaultConfig());
    const client = shape['client'] as Record<string, unknown>;
    assert.equal(client['ping_interval'], '25s');
    assert.equal((shape['channel'] as Record<string, unknown>)['history_meta_ttl'], '720h');
    assert.equal((shape['websocket'] as Record<string, unknown>)['write_timeout'], '1s');
    // Round trip: the rendered tree loads to the same config.
    const file = write('round.json', JSON.stringify(shape));
    assert.deepEqual(loadConfig({ file, env: {} }).config, defaultConfig());
  });
});

describe('loadConfig: env and flags', () => {
  const file = join(fixtures, 'config.json');

  it('maps CENTRIFUGO_* and GYRE_* vars by walking the key tree', () => {
    const r = loadConfig({
      file,
      env: {
        CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY: 'from-env',
        CENTRIFUGO_HTTP_SERVER_PORT: '9200',
        CENTRIFUGO_CLIENT_INSECURE: '1',
        CENTRIFUGO_HEALTH_ENABLED: 'true',
        CENTRIFUGO_CLIENT_ALLOWED_ORIGINS: 'https://a.com  https://b.com',
        CENTRIFUGO_CLIENT_PING_INTERVAL: '30s',
        CENTRIFUGO_CHANNEL_NAMESPACES: '[{"name":"env_ns","presence":true}]',
        CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_HISTORY_META_TTL: '1000h',
        CENTRIFUGO_PID_FILE: '',
        CENTRIFUGO_CLIENT_SUBSCRIPTION_TOKEN_ENABLED: 'false',
      },
    });
    const c = r.config;
    assert.equal(c.client.token.hmac_secret_key, 'from-env');
    assert.equal(c.http_server.port, 9200);
    assert.equal(c.client.insecure, true);
    assert.equal(c.health.enabled, true);
    assert.deepEqual(c.client.allowed_origins, ['https://a.com', 'https://b.com']);
    assert.equal(c.client.ping_interval, 30_000);
    assert.deepEqual(c.channel.namespaces.map((n) => n.name), ['env_ns']);
    assert.equal(c.channel.without_namespace.history_meta_ttl, 1000 * 3_600_000);
    assert.equal(c.pid_file, '');
    assert.equal(c.client.subscription_token.enabled, false);
    assert.deepEqual(r.warnings, []);
  });

  it('GYRE_ wins over CENTRIFUGO_, flags win over env, env over file', () => {
    const env = { CENTRIFUGO_LOG_LEVEL: 'warn', GYRE_LOG_LEVEL: 'error', CENTRIFUGO_HTTP_SERVER_PORT: '9300' };
    assert.equal(loadConfig({ file, env }).config.log.level, 'error');
    assert.equal(loadConfig({ file, env }).config.http_server.port, 9300);
    const r = loadConfig({ file, env, flags: { 'http_server.port': '9400', 'log.level': 'trace', 'client.insecure': true } });
    assert.equal(r.config.http_server.port, 9400);
    assert.equal(r.config.log.level, 'trace');
    assert.equal(r.config.client.insecure, true);
    // the file value survives where nothing overrides it
    assert.equal(r.config.client.channel_limit, 64);
  });

  it('overrides one option of a named namespace', () => {
    const r = loadConfig({ file, env: { CENTRIFUGO_CHANNEL_NAMESPACES_FEED_V2_PRESENCE: 'true', CENTRIFUGO_CHANNEL_NAMESPACES_NOPE_PRESENCE: '1' } });
    assert.equal(r.config.channel.namespaces[1]?.presence, true);
    assert.equal(r.config.channel.namespaces[0]?.join_leave, true);
    assert.deepEqual(r.warnings, ['unknown environment variable CENTRIFUGO_CHANNEL_NAMESPACES_NOPE_PRESENCE (no such namespace option)']);
  });

  it('rejects bad env values and unknown flags with key paths', () => {
    const e1 = configError(() => loadConfig({ file, env: { CENTRIFUGO_CLIENT_INSECURE: 'yes' } }));
    assert.equal(e1.code, 'invalid_env');
    assert.equal(e1.path, 'client.insecure');
    const e2 = configError(() => loadConfig({ file, env: { CENTRIFUGO_CHANNEL_NAMESPACES: '{"name":"x"}' } }));
    assert.equal(e2.path, 'channel.namespaces');
    const e3 = configError(() => loadConfig({ file, env: {}, flags: { 'http_server.nope': '1' } }));
    assert.equal(e3.code, 'invalid_flag');
    assert.equal(e3.path, 'http_server.nope');
    const e4 = configError(() => loadConfig({ file, env: { CENTRIFUGO_HTTP_SERVER_PORT: 'abc' } }));
    assert.equal(e4.path, 'http_server.port');
  });
});
