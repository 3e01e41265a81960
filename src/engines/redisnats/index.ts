// The redisnats engine (`broker.type: redisnats`, Centrifugo's experimental Redis + NATS broker): a Redis engine
// on commands-only shards (`broker.redis.*`: history, idempotency results) and a NATS engine (`broker.nats.*`:
// publications, joins, leaves, control plane), composed by ./broker.ts. Its presence part is the NATS engine's
// in-memory one; presence comes from `engine` or `presence_manager`, as for the NATS broker.
import type { NatsBrokerConfig, RedisEngineConfig } from '../../config/types.js';
import { createNatsEngine, type NatsEngine } from '../nats/index.js';
import { createRedisEngine, type RedisEngine } from '../redis/index.js';
import type { Engine, EngineHealth } from '../types.js';
import { RedisNatsBroker } from './broker.js';

export { RedisNatsBroker } from './broker.js';

export interface RedisNatsEngineOptions {
  onRedisError?: (err: unknown, context: { shard: string; what: string }) => void;
  onNatsError?: (err: unknown, context: { what: string }) => void;
  /** The config section the Redis slice came from, named in config errors (default `broker.redis`). */
  redisConfigPath?: string;
}

export interface RedisNatsEngine extends Engine {
  readonly broker: RedisNatsBroker;
  readonly history: RedisNatsBroker;
  readonly redis: RedisEngine;
  readonly nats: NatsEngine;
  health(): EngineHealth;
}

export function createRedisNatsEngine(
  redisCfg: RedisEngineConfig,
  natsCfg: NatsBrokerConfig,
  opts: RedisNatsEngineOptions = {},
): RedisNatsEngine {
  const redis = createRedisEngine(redisCfg, {
    configPath: opts.redisConfigPath ?? 'broker.redis',
    tuning: { commandsOnly: true },
    ...(opts.onRedisError !== undefined ? { onError: opts.onRedisError } : {}),
  });
  const nats = createNatsEngine(natsCfg, opts.onNatsError !== undefined ? { onError: opts.onNatsError } : {});
  const broker = new RedisNatsBroker(redis.broker, nats.broker, (err) =>
    opts.onNatsError?.(err, { what: 'publication stored in Redis history, not sent on NATS' }),
  );
  let closed: Promise<void> | undefined;
  return {
    name: 'redisnats',
    broker,
    history: broker,
    presence: nats.presence,
    controller: nats.controller,
    redis,
    nats,
    health(): EngineHealth {
      const problems = [...redis.health().problems, ...nats.health().problems];
      return { ok: problems.length === 0, problems };
    },
    close(): Promise<void> {
      closed ??= Promise.all([broker.close(), redis.close(), nats.close()]).then(() => undefined);
      return closed;
    },
  };
}
