// The key rule (docs/config.md): a Centrifugo v6 key Gyre does not implement is refused when set to a value that
// would change behaviour; at Centrifugo's default, or switched off by its own section, it is accepted; keys neither
// knows only warn. In-process through loadConfig, one case per key; test/unit/cli/unsupported-keys.test.ts runs
// the same rule through real `node bin/gyre.js` processes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CENTRIFUGO_KEYS } from '../../../src/config/centrifugo-keys.js';
import { ConfigError, loadConfig, type LoadOptions } from '../../../src/config/index.js';
import { leafPaths } from '../../../src/config/keytree.js';
import { gyreExtensionKeys } from '../../../src/config/support.js';

const fixtures = new URL('../../fixtures/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gyre-support-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function file(tree: Record<string, unknown>): string {
  const p = join(dir, `c${n++}.json`);
  writeFileSync(p, JSON.stringify(tree));
  return p;
}

function load(tree: Record<string, unknown>, opts: Omit<LoadOptions, 'file'> = {}) {
  return loadConfig({ env: {}, ...opts, file: file(tree) });
}

function refused(tree: Record<string, unknown>, opts: Omit<LoadOptions, 'file'> = {}): ConfigError {
  try {
    load(tree, opts);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail(`accepted ${JSON.stringify(tree)} ${JSON.stringify(opts)}`);
}

const ns = (options: Record<string, unknown>) => ({ channel: { namespaces: [{ name: 'chat', ...options }] } });

/** [refused key path, config] */
const REFUSED: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['opentelemetry.enabled', { opentelemetry: { enabled: true } }],
  ['http_server.http3.enabled', { http_server: { http3: { enabled: true } } }],
  ['http_server.tls_autocert.enabled', { http_server: { tls_autocert: { enabled: true } } }],
  ['webtransport.enabled', { webtransport: { enabled: true } }],
  ['uni_websocket.write_buffer_size', { uni_websocket: { enabled: true, write_buffer_size: 4096 } }],
  // An enabled consumer of a type Gyre does not run (src/config/validate-consumers.ts).
  ['consumers[0].type', { consumers: [{ name: 'js', enabled: true, type: 'nats_jetstream' }] }],
  ['consumers[0].kafka.assume_role_arn', { consumers: [{ name: 'kk', enabled: true, type: 'kafka', kafka: { assume_role_arn: 'arn:aws:iam::1:role/x' } }] }],
  ['admin.web_path', { admin: { enabled: true, web_path: '/srv/admin' } }],
  ['broker.nats.raw_mode.enabled', { broker: { enabled: true, type: 'nats', nats: { raw_mode: { enabled: true } } } }],
  // Both parts of the Redis + NATS broker are in use: a NATS key Gyre lacks is refused there too.
  ['broker.nats.raw_mode.enabled', { enable_unreleased_features: true, broker: { enabled: true, type: 'redisnats', nats: { raw_mode: { enabled: true } } } }],
  
  ['websocket.use_write_buffer_pool', { websocket: { use_write_buffer_pool: true } }],
  ['webtransport', { webtransport: true }],
];

describe('Centrifugo keys Gyre does not implement', () => {
  for (const [path, tree] of REFUSED) {
    it(`refuses ${path}`, () => {
      const e = refused(tree);
      assert.equal(e.code, 'unsupported');
      assert.ok(
        e.issues.some((i) => i.path === path),
        `${path} not named in ${JSON.stringify(e.issues)}`,
      );
    });
  }

  it('names every refused key at once, and keeps the unknown-key warnings', () => {
    const e = refused({ webtransport: { enabled: true }, graphite: { enabled: true }, typo_key: 1 });
    assert.deepEqual(
      e.issues.map((i) => i.path),
      ['webtransport.enabled', 'graphite.enabled'],
    );
    assert.match(e.issues[0]?.reason ?? '', /not supported by Gyre yet/);
    assert.deepEqual(e.warnings, ['unknown config key typo_key']);
  });

  it('accepts them at their default or switched off by their own section', () => {
    const r = load({
      webtransport: { enabled: false, handler_prefix: '/connection/webtransport' },
      uni_grpc: { port: 11000 },
      // inert: the section is disabled, the type is another one, the matching *_enabled is false
      http_server: { tls_autocert: { enabled: false, email: 'a@b.c' }, h2c_external: false },
      admin: { enabled: false, web_path: '/srv/admin', web_proxy_address: 'http://127.0.0.1:3000' },
      engine: { type: 'memory', redis: { address: ['redis://10.0.0.1:6379'] } },
      channel: {
        without_namespace: { publish_proxy_enabled: false, publish_proxy_name: 'mine' },
        namespaces: [{ name: 'chat', subscribe_proxy_enabled: false, subscribe_proxy_name: 'p', presence: true }],
      },
      consumers: [{ name: 'js', enabled: false, type: 'nats_jetstream', nats_jetstream: { url: 'nats://10.0.0.1:4222' } }],
      websocket: { write_timeout: '1s', read_buffer_size: 0 },
      proxies: [],
      broker: { enabled: false, type: 'nats', nats: { url: 'nats://10.0.0.1:4222' } },
      presence_manager: { enabled: true, type: 'memory', redis: { address: ['redis://10.0.0.1:6379'] } },
      node: { name: null },
    });
    assert.deepEqual(r.warnings, []);
    assert.equal(r.config.channel.namespaces[0]?.presence, true);
  });

  it("loads Centrifugo v6.9.1's own `defaultconfig` output without an error or a warning", () => {
    const r = loadConfig({ file: join(fixtures, 'centrifugo-defaultconfig.json'), env: {} });
    assert.deepEqual(r.warnings, []);
    assert.equal(r.config.http_server.port, 8000);
  });

  it('implements the TLS blocks (http_server.tls, tls_external, internal_tls): loaded, not refused', () => {
    const tls = { enabled: true, cert_pem: 'c.pem', key_pem: 'k.pem', client_ca_pem: 'ca.pem', server_name: 'x' };
    const r = load({ http_server: { tls, tls_external: true, internal_tls: { ...tls, cert_pem: 'i.pem' } } });
    assert.deepEqual(r.warnings, []);
    assert.equal(r.config.http_server.tls.enabled, true);
    assert.equal(r.config.http_server.tls.cert_pem, 'c.pem');
    assert.equal(r.config.http_server.tls_external, true);
    assert.equal(r.config.http_server.internal_tls.cert_pem, 'i.pem');
  });

  it('accepts usage_stats.disabled either way (Gyre sends no usage statistics)', () => {
    for (const disabled of [true, false]) {
      const r = load({ usage_stats: { disabled } });
      assert.deepEqual(r.warnings, []);
      assert.equal(r.config.usage_stats.disabled, disabled);
    }
  });

  it('keys neither Centrifugo nor Gyre knows only warn', () => {
    const r = load({ client: { typo: 1 }, sse: { enabled: false, typo: 2 }, ...ns({ typo: 3 }) });
    assert.deepEqual(r.warnings.sort(), [
      'unknown config key channel.namespaces[0].typo',
      'unknown config key client.typo',
      'unknown config key sse.typo',
    ]);
  });

  it('environment variables go through the same rule', () => {
    for (const [variable, path] of [
      ['CENTRIFUGO_WEBTRANSPORT_ENABLED', 'webtransport.enabled'],
      ['GYRE_GRAPHITE_ENABLED', 'graphite.enabled'],
      ['CENTRIFUGO_HTTP_SERVER_TLS_AUTOCERT_ENABLED', 'http_server.tls_autocert.enabled'],
      ['CENTRIFUGO_OPENTELEMETRY_ENABLED', 'opentelemetry.enabled'],
    ] as const) {
      const e = refused(ns({}), { env: { [variable]: 'true' } });
      assert.equal(e.issues[0]?.path, path, variable);
    }
    assert.deepEqual(load({}, { env: { CENTRIFUGO_WEBTRANSPORT_ENABLED: 'false', CENTRIFUGO_GRPC_API_PORT: '10000' } }).warnings, []);
  });

  it('flags go through the same rule', () => {
    assert.equal(refused({}, { flags: { 'opentelemetry.enabled': true, 'opentelemetry.api': true } }).issues[0]?.path, 'opentelemetry.enabled');
    assert.equal(refused({}, { flags: { 'webtransport.enabled': 'true' } }).issues[0]?.path, 'webtransport.enabled');
    assert.deepEqual(load({}, { flags: { 'webtransport.enabled': 'false', 'uni_grpc.port': '11000' } }).warnings, []);
  });
});

describe('the key tables', () => {
  it('every key Gyre implements is a Centrifugo key, except the listed extensions', () => {
    const known = new Set(CENTRIFUGO_KEYS.map(([p]) => p));
    const gyre = leafPaths().map(([p]) => p);
    assert.ok(gyre.length > 100);
    const extensions = gyre.filter((p) => !known.has(p) && !known.has(`${p}[]`) && p !== 'channel.namespaces');
    assert.deepEqual(extensions.sort(), gyreExtensionKeys().sort());
    assert.deepEqual(gyreExtensionKeys().sort(), [
      'admin.token_ttl',
      'client.ip_connection_limit',
      'health.ready_handler_prefix',
      'http_api.max_batch_size',
      'http_api.max_request_body_size',
      'http_server.backlog',
      'http_server.fd_reserve',
      'http_server.handshake_wait_budget',
      'http_server.max_handshakes_in_flight',
      'http_server.warmup_connections',
      'node.listen_copies',
      'node.worker_node_args',
      'node.workers',
      'node.workers_scheduling',
      'shutdown.drain_duration',
      'shutdown.pre_drain_delay',
    ]);
  });
});
