// Server config and start-up for the NATS cross-node tests: PUB/SUB and control over NATS (`broker.type: nats`),
// presence in Redis (`engine.type: redis`, whose broker part the NATS broker replaces), namespaces without history.
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { baseConfig } from '../compat/base-config.js';
import type { ServerNode } from '../redis/scenarios.js';

/** The namespaces the shared scenarios use (`xx`, `srv`, `dl` for delta), without history: a NATS broker has none. */
export function natsNamespaces(): Record<string, unknown>[] {
  return [
    {
      name: 'xx',
      presence: true,
      join_leave: true,
      force_push_join_leave: true,
      allow_subscribe_for_client: true,
      allow_publish_for_subscriber: true,
      allow_presence_for_subscriber: true,
    },
    { name: 'srv' },
    { name: 'dl', allowed_delta_types: ['fossil'], allow_subscribe_for_client: true },
  ];
}

/**
 * Gyre and Centrifugo read the same keys. Presence in Redis either through `engine.type: redis` (its broker part
 * replaced) or through `presence_manager.type: redis` (no engine at all).
 */
export function natsNodeConfig(
  natsUrl: string,
  redisAddress: string,
  prefix: string,
  nodeName: string,
  presenceVia: 'engine' | 'presence_manager' = 'engine',
): Record<string, unknown> {
  const redis = { address: [redisAddress], prefix };
  return mergeConfig(baseConfig(), {
    ...(presenceVia === 'engine'
      ? { engine: { type: 'redis', redis } }
      : { presence_manager: { enabled: true, type: 'redis', redis } }),
    broker: { enabled: true, type: 'nats', nats: { url: natsUrl, prefix } },
    node: { name: nodeName },
    channel: { namespaces: natsNamespaces() },
  });
}

export interface GyreNatsNode extends ServerNode {
  proc: GyreProcess;
}

export async function startGyreNatsNodes(
  natsUrl: string,
  redisAddress: string,
  prefix: string,
  names: readonly string[],
  presenceVia: 'engine' | 'presence_manager' = 'engine',
): Promise<GyreNatsNode[]> {
  return await Promise.all(
    names.map(async (name) => {
      const proc = await startGyre(natsNodeConfig(natsUrl, redisAddress, prefix, name, presenceVia));
      return { name, url: proc.url, apiUrl: proc.apiUrl, proc };
    }),
  );
}
