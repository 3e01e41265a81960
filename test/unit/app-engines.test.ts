// The engine factory (engine.type, broker, presence_manager) and the start-up capability check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createEngine, engineFactories, type EngineFactory, type EngineSection } from '../../src/app-engines.js';
import { defaultConfig, validateConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/config/errors.js';
import type { GyreConfig } from '../../src/config/types.js';
import { checkEngineCapabilities } from '../../src/core/capabilities.js';
import { createMemoryEngine } from '../../src/engines/memory/index.js';
import { RedisConfigError } from '../../src/engines/redis/index.js';
import type { Engine } from '../../src/engines/types.js';

const logger = pino({ level: 'silent' });

/** Memory engines that record which section they were made for and whether they were closed. */
function recordingFactories(): { factories: Record<string, EngineFactory>; made: { section: EngineSection; closed: boolean }[] } {
  const made: { section: EngineSection; closed: boolean }[] = [];
  const factory: EngineFactory = ({ section }) => {
    const e = createMemoryEngine();
    const rec = { section, closed: false };
    made.push(rec);
    return Promise.resolve({
      ...e,
      name: `mem-${section}`,
      close: () => {
        rec.closed = true;
        return e.close();
      },
    });
  };
  return { factories: { memory: factory }, made };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail('expected a ConfigError');
}

async function configErrorAsync(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail('expected a ConfigError');
}

describe('createEngine', () => {
  it('builds the memory engine by default, with a loopback controller', async () => {
    const e = await createEngine(defaultConfig(), logger);
    assert.equal(e.name, 'memory');
    assert.ok(e.controller !== undefined);
    assert.ok(e.history !== undefined);
    await e.close();
  });

  it('registers memory only in this build; another type is a config error naming the key', async () => {
    assert.deepEqual(Object.keys(engineFactories).includes('memory'), true);
    const c = defaultConfig();
    c.engine.type = 'redis';
    const err = await configErrorAsync(createEngine(c, logger, { memory: engineFactories['memory']! }));
    assert.equal(err.code, 'unsupported');
    assert.equal(err.path, 'engine.type');
    const c2 = defaultConfig();
    c2.broker = { ...c2.broker!, enabled: true, type: 'nats' };
    assert.equal((await configErrorAsync(createEngine(c2, logger, { memory: engineFactories['memory']! }))).path, 'broker.type');
  });

  it('one engine when neither broker nor presence_manager is enabled', async () => {
    const { factories, made } = recordingFactories();
    const e = await createEngine(defaultConfig(), logger, factories);
    assert.deepEqual(made.map((m) => m.section), ['engine']);
    await e.close();
    assert.equal(made[0]!.closed, true);
  });

  it('broker.enabled takes broker, history and controller from its own engine, presence from the engine', async () => {
    const { factories, made } = recordingFactories();
    const c: GyreConfig = defaultConfig();
    c.broker = { ...c.broker!, enabled: true, type: 'memory' };
    const e = await createEngine(c, logger, factories);
    assert.deepEqual(made.map((m) => m.section), ['engine', 'broker']);
    assert.equal(e.name, 'mem-broker+mem-engine');
    await e.close();
    await e.close();
    assert.deepEqual(made.map((m) => m.closed), [true, true]);
  });

  it('both split sections enabled: no combined engine is made', async () => {
    const { factories, made } = recordingFactories();
    const c: GyreConfig = defaultConfig();
    c.broker = { ...c.broker!, enabled: true, type: 'memory' };
    c.presence_manager = { ...c.presence_manager!, enabled: true, type: 'memory' };
    const e = await createEngine(c, logger, factories);
    assert.deepEqual(made.map((m) => m.section), ['broker', 'presence_manager']);
    await e.close();
  });

  it('closes what it made when a later part fails', async () => {
    const { factories, made } = recordingFactories();
    const c: GyreConfig = defaultConfig();
    c.presence_manager = { ...c.presence_manager!, enabled: true, type: 'redis' };
    const err = await configErrorAsync(createEngine(c, logger, factories));
    assert.equal(err.path, 'presence_manager.type');
    assert.deepEqual(made.map((m) => m.closed), [true]);
  });
});

describe('broker.type redis: config errors name broker.redis keys', () => {
  const redisBroker = (redis: Partial<NonNullable<GyreConfig['broker']>['redis']>): GyreConfig => {
    const c = defaultConfig();
    c.broker = { ...c.broker!, enabled: true, type: 'redis', redis: { ...c.broker!.redis, ...redis } };
    return c;
  };

  it('a malformed broker.redis address is refused before any connection, naming the key', async () => {
    await assert.rejects(createEngine(redisBroker({ address: ['127.0.0.1:6379', 'no-port'] }), logger), (e: unknown) => {
      assert.ok(e instanceof RedisConfigError);
      assert.equal(e.path, 'broker.redis.address[1]');
      return true;
    });
    await assert.rejects(createEngine(redisBroker({ sentinel_address: ['127.0.0.1:26379'] }), logger), (e: unknown) => {
      assert.ok(e instanceof RedisConfigError);
      assert.equal(e.path, 'broker.redis.sentinel_master_name');
      return true;
    });
  });

  it('validation refuses what Gyre lacks under broker.redis, and only when that broker is in use', () => {
    const err = configError(() => validateConfig(redisBroker({ history_use_lists: true })));
    assert.equal(err.path, 'broker.redis.history_use_lists');
    assert.match(err.message, /not supported/);
    assert.equal(configError(() => validateConfig(redisBroker({ replica_client: { enabled: true } }))).path, 'broker.redis.replica_client.enabled');
    const off = redisBroker({ history_use_lists: true });
    off.broker = { ...off.broker!, type: 'nats' };
    validateConfig(off);
  });
});

describe('checkEngineCapabilities', () => {
  function withoutHistory(): Engine {
    const e = createMemoryEngine();
    const broker = Object.create(e.broker, {
      capabilities: { value: { history: false, atomicHistory: false, presence: true } },
    }) as typeof e.broker;
    const { history: _h, ...rest } = e;
    return { ...rest, name: 'nohistory', broker };
  }

  it('accepts history namespaces on a broker with history', () => {
    const c = defaultConfig();
    c.channel.without_namespace.history_size = 10;
    c.channel.without_namespace.history_ttl = 60_000;
    checkEngineCapabilities(c, createMemoryEngine());
  });

  it('names the namespace that needs history the broker lacks', () => {
    const e = withoutHistory();
    const c = defaultConfig();
    checkEngineCapabilities(c, e); // no history anywhere: fine
    c.channel.namespaces = [
      { ...c.channel.without_namespace, name: 'plain' },
      { ...c.channel.without_namespace, name: 'chat', history_size: 10, history_ttl: 60_000 },
    ];
    const err = configError(() => checkEngineCapabilities(c, e));
    assert.equal(err.code, 'unsupported');
    assert.equal(err.path, 'channel.namespaces[1].history_size');
    assert.match(err.reason, /"chat"/);
    c.channel.namespaces = [];
    c.channel.without_namespace.history_size = 5;
    c.channel.without_namespace.history_ttl = 1000;
    assert.equal(configError(() => checkEngineCapabilities(c, e)).path, 'channel.without_namespace.history_size');
  });
});
