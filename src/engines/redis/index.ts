// The Redis engine (engine.type "redis"): broker + history, presence and the control plane on one or more
// Redis shards (standalone, Sentinel or Cluster), in Centrifugo's data format.
import type { RedisEngineConfig } from '../../config/types.js';
import type { Engine, EngineHealth } from '../types.js';
import { RedisBroker } from './broker.js';
import { RedisConfigError, shardSpecs } from './connection.js';
import { RedisController } from './controller.js';
import { RedisPresenceManager } from './presence.js';
import { RedisShards, type ShardTuning } from './shards.js';

export { RedisBroker } from './broker.js';
export { RedisConfigError } from './connection.js';
export { RedisController } from './controller.js';
export { RedisPresenceManager } from './presence.js';
export { PubSubUnavailableError } from './pubsub.js';

export interface RedisEngineOptions {
  /** Epoch generator for new streams (default 8 random letters). */
  newEpoch?: () => string;
  /** Connection-level errors (logged by the caller, rate-limited there if needed). */
  onError?: (err: unknown, context: { shard: string; what: string }) => void;
  tuning?: ShardTuning;
  /** The config section `cfg` came from, named in config errors (default `engine.redis`). */
  configPath?: string;
}

export interface RedisEngine extends Engine {
  readonly broker: RedisBroker;
  readonly history: RedisBroker;
  readonly presence: RedisPresenceManager;
  readonly controller: RedisController;
  readonly shards: RedisShards;
  health(): EngineHealth;
}

/** Keys Centrifugo has that this engine does not implement: refused at start with the key path. */
export function checkRedisConfig(cfg: RedisEngineConfig, at = 'engine.redis'): void {
  if (cfg.history_use_lists) {
    throw new RedisConfigError(`${at}.history_use_lists`, 'history in Redis lists is not supported (streams only)');
  }
  if (cfg.presence_hash_field_ttl) {
    throw new RedisConfigError(`${at}.presence_hash_field_ttl`, 'hash field TTL presence is not supported');
  }
  if (cfg.replica_client.enabled) {
    throw new RedisConfigError(`${at}.replica_client.enabled`, 'reading from replicas is not supported');
  }
  shardSpecs(cfg, at);
}

export function createRedisEngine(cfg: RedisEngineConfig, opts: RedisEngineOptions = {}): RedisEngine {
  checkRedisConfig(cfg, opts.configPath);
  // Filled right below; shard events start only with shards.start(), after both exist.
  const parts: { broker?: RedisBroker; controller?: RedisController } = {};
  const shards = new RedisShards(
    shardSpecs(cfg, opts.configPath),
    cfg.prefix === '' ? 'centrifugo' : cfg.prefix,
    {
      message(shard, channel, payload) {
        if (parts.broker?.handleMessage(shard, channel, payload) === true) return;
        parts.controller?.handleMessage(shard, channel, payload);
      },
      restored(shard, channels) {
        parts.broker?.handleRestored(shard, channels);
      },
      error(shard, err, what) {
        opts.onError?.(err, { shard: shard.label, what });
      },
    },
    opts.tuning,
  );
  const b = new RedisBroker(shards, opts.newEpoch);
  const c = new RedisController(shards);
  parts.broker = b;
  parts.controller = c;
  const presence = new RedisPresenceManager(shards, {
    presenceTtlMs: cfg.presence_ttl,
    userMapping: cfg.presence_user_mapping,
  });
  let closed: Promise<void> | undefined;
  return {
    name: 'redis',
    broker: b,
    history: b,
    presence,
    controller: c,
    shards,
    health(): EngineHealth {
      const problems: string[] = [];
      for (const s of shards.list) {
        if (!s.commandsUp) problems.push(`redis ${s.label}: not connected`);
        else if (!s.commandsOnly && !s.pubsub.up) problems.push(`redis ${s.label}: PUB/SUB not live`);
      }
      return { ok: problems.length === 0, problems };
    },
    close(): Promise<void> {
      closed ??= (async () => {
        await Promise.all([b.close(), c.close(), presence.close()]);
        await shards.close();
      })();
      return closed;
    },
  };
}
