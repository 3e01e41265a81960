// Starting several server processes on one Redis engine for the cross-node tests.
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { baseConfig } from '../compat/base-config.js';
import { scenarioNamespaces, type ServerNode } from './scenarios.js';

/** Server config (Gyre and Centrifugo read the same keys) for engine.redis = `redis`. */
export function redisClusterConfig(redis: Record<string, unknown>, nodeName: string): Record<string, unknown> {
  return mergeConfig(baseConfig(), {
    engine: { type: 'redis', redis },
    node: { name: nodeName },
    channel: { namespaces: scenarioNamespaces() },
  });
}

export interface GyreNode extends ServerNode {
  proc: GyreProcess;
}

export async function startGyreNodes(redis: Record<string, unknown>, names: readonly string[]): Promise<GyreNode[]> {
  return await Promise.all(
    names.map(async (name) => {
      const proc = await startGyre(redisClusterConfig(redis, name));
      return { name, url: proc.url, apiUrl: proc.apiUrl, proc };
    }),
  );
}

export interface Topology {
  /** engine.redis keys pointing at the servers. */
  redis: Record<string, unknown>;
  stop(): Promise<void>;
}
