// Engine factory: with app.ts the only module that knows concrete engines. The engine comes from `engine.type`;
// Centrifugo v6's `broker` and `presence_manager` sections, when enabled, replace the broker part (broker,
// history, control plane) or the presence part with an engine of their own type. Each factory reads its own typed
// config slice (`config[section].<type>`, e.g. `engine.redis`) and maps it to its engine's options, so engines never
// see the config module.
import type { Logger } from 'pino';
import { ConfigError } from './config/errors.js';
import type { GyreConfig, RedisEngineConfig } from './config/types.js';
import { createMemoryEngine } from './engines/memory/index.js';
import { connectPrimary, createPrimaryEngine, processPort, type PrimaryLink } from './engines/primary/index.js';
import { createNatsEngine } from './engines/nats/index.js';
import { createRedisEngine } from './engines/redis/index.js';
import { createRedisNatsEngine } from './engines/redisnats/index.js';
import type { Engine } from './engines/types.js';

/** The config section an engine is created for: its slice is `config[section][type]`. */
export type EngineSection = 'engine' | 'broker' | 'presence_manager';

export interface EngineFactoryInput {
  config: Readonly<GyreConfig>;
  section: EngineSection;
  logger: Logger;
}

export type EngineFactory = (input: EngineFactoryInput) => Promise<Engine>;

/**
 * The registration point: engine type → factory. A new engine adds one line here (and its config slice to the
 * schema). A type the schema accepts but this build lacks is a config error at start.
 */
export const engineFactories: Readonly<Record<string, EngineFactory>> = {
  memory: () => Promise.resolve(createMemoryEngine()),
  redis: ({ config, section, logger }) => {
    const { slice, at } = redisSlice(config, section);
    const e = createRedisEngine(slice, {
      configPath: at,
      onError: (err, ctx) => logger.warn({ err, ...ctx }, 'redis connection problem'),
    });
    // The broker part starts the shards (broker.start). When only the presence part is used (a presence_manager,
    // or an engine under an enabled broker), nothing else does: start them here.
    if (section === 'broker' || (section === 'engine' && config.broker?.enabled !== true)) return Promise.resolve(e);
    return e.shards.start().then(
      () => e,
      async (err: unknown) => {
        await e.close();
        throw err;
      },
    );
  },
  redisnats: ({ config, section, logger }) => {
    if (section !== 'broker' || config.broker === undefined) {
      return Promise.reject(new ConfigError('unsupported', `${section}.type`, 'redisnats is available as broker.type only'));
    }
    // validateConfig already refused it without enable_unreleased_features (Centrifugo refuses it the same way).
    logger.warn('the redisnats broker is not released in Centrifugo, it may be changed or removed at any point');
    const { slice, at } = redisSlice(config, section);
    return Promise.resolve(
      createRedisNatsEngine(slice, config.broker.nats, {
        redisConfigPath: at,
        onRedisError: (err, ctx) => logger.warn({ err, ...ctx }, 'redis connection problem'),
        onNatsError: (err, ctx) => logger.warn({ err, ...ctx }, 'nats connection problem'),
      }),
    );
  },
  nats: ({ config, section, logger }) => {
    if (section !== 'broker' || config.broker === undefined) {
      return Promise.reject(new ConfigError('unsupported', `${section}.type`, 'nats is available as broker.type only'));
    }
    return Promise.resolve(
      createNatsEngine(config.broker.nats, { onError: (err, ctx) => logger.warn({ err, ...ctx }, 'nats connection problem') }),
    );
  },
};

/**
 * In a worker process (`node.workers` > 1) the memory engine is the cluster primary's: every memory part
 * (broker, history, presence, control plane) is shared by all workers through it (src/engines/primary/).
 */
export function workerEngineFactories(logger: Logger): Readonly<Record<string, EngineFactory>> {
  let link: PrimaryLink | undefined;
  return {
    ...engineFactories,
    memory: () => {
      link ??= connectPrimary(processPort(), (err) => logger.error({ err }, 'primary engine event handler failed'));
      return Promise.resolve(createPrimaryEngine(link));
    },
  };
}

/**
 * The Redis slice of `section` as a full engine.redis shape. A section's own slice lacks the other part's keys
 * (broker.redis has no presence keys, presence_manager.redis no history keys); those parts are never used from it.
 */
function redisSlice(config: Readonly<GyreConfig>, section: EngineSection): { slice: RedisEngineConfig; at: string } {
  const e = config.engine.redis;
  if (section === 'broker' && config.broker !== undefined) {
    const presence = { presence_ttl: e.presence_ttl, presence_hash_field_ttl: false, presence_user_mapping: false };
    return { slice: { ...config.broker.redis, ...presence }, at: 'broker.redis' };
  }
  if (section === 'presence_manager' && config.presence_manager !== undefined) {
    return { slice: { ...config.presence_manager.redis, history_use_lists: false }, at: 'presence_manager.redis' };
  }
  return { slice: e, at: 'engine.redis' };
}

function typeKey(section: EngineSection): string {
  return `${section}.type`;
}

/**
 * Builds the engine the config asks for. With a split set-up the parts come from up to two engines; the unused
 * parts of those engines are closed with them.
 */
export async function createEngine(
  config: Readonly<GyreConfig>,
  logger: Logger,
  factories: Readonly<Record<string, EngineFactory>> = engineFactories,
): Promise<Engine> {
  const created: Engine[] = [];
  const make = async (section: EngineSection, type: string): Promise<Engine> => {
    const factory = factories[type];
    if (factory === undefined) {
      throw new ConfigError('unsupported', typeKey(section), `engine type "${type}" is not available in this build`);
    }
    const e = await factory({ config, section, logger });
    created.push(e);
    return e;
  };
  const broker = config.broker?.enabled === true ? config.broker : undefined;
  const presence = config.presence_manager?.enabled === true ? config.presence_manager : undefined;
  try {
    const base = broker === undefined || presence === undefined ? await make('engine', config.engine.type) : undefined;
    const b = broker !== undefined ? await make('broker', broker.type) : base;
    const p = presence !== undefined ? await make('presence_manager', presence.type) : base;
    if (b === undefined || p === undefined) throw new Error('unreachable: no engine part');
    if (created.length === 1) return b;
    return composeEngine(b, p, created);
  } catch (err) {
    await Promise.allSettled(created.map((e) => e.close()));
    throw err;
  }
}

/** Broker, history and control plane from `b`, presence from `p`; close() closes every engine created. */
function composeEngine(b: Engine, p: Engine, all: readonly Engine[]): Engine {
  let closed: Promise<void> | undefined;
  return {
    name: b === p ? b.name : `${b.name}+${p.name}`,
    broker: b.broker,
    ...(b.history !== undefined ? { history: b.history } : {}),
    presence: p.presence,
    controller: b.controller,
    health: () => {
      const problems = [...(b.health?.().problems ?? []), ...(p !== b ? (p.health?.().problems ?? []) : [])];
      return { ok: problems.length === 0, problems };
    },
    close(): Promise<void> {
      closed ??= Promise.all(all.map((e) => e.close())).then(() => undefined);
      return closed;
    },
  };
}
