// Start-up check of the configured namespaces against what the engine can do: a namespace with history on a
// broker without history (NATS) is a config error naming that namespace, not a runtime 108 on every subscribe.
import { ConfigError } from '../config/errors.js';
import type { ChannelOptions, GyreConfig } from '../config/types.js';
import type { Engine } from '../engines/types.js';

function hasHistory(o: ChannelOptions): boolean {
  return o.history_size > 0 && o.history_ttl > 0;
}

/** Throws ConfigError('unsupported', '<namespace path>.history_size', …) for the first namespace that does not fit. */
export function checkEngineCapabilities(config: Readonly<GyreConfig>, engine: Engine): void {
  const historyOk = engine.broker.capabilities.history && engine.history !== undefined;
  if (historyOk) return;
  const reason = (what: string): string => `${what} uses history, but the "${engine.name}" broker has no history`;
  if (hasHistory(config.channel.without_namespace)) {
    throw new ConfigError('unsupported', 'channel.without_namespace.history_size', reason('the default namespace'));
  }
  config.channel.namespaces.forEach((ns, i) => {
    if (hasHistory(ns)) {
      throw new ConfigError('unsupported', `channel.namespaces[${i}].history_size`, reason(`namespace "${ns.name}"`));
    }
  });
}
