// The parts of the core that a configuration reload replaces: the config commands read, the channel resolver
// built from it (with its resolved-channel cache), the publisher's history defaults and the token verifier.
// They travel as one frozen object that Node swaps in a single assignment, so a command never resolves a channel
// with one config and checks limits of another. Connected sessions keep their connection and subscriptions;
// their next command sees the new parts.
import type { TokenVerifier } from '../auth/types.js';
import type { GyreConfig } from '../config/types.js';
import type { Broker } from '../engines/types.js';
import type { ProxyRegistry } from '../proxy/types.js';
import { ChannelResolver } from './channels.js';
import { Publisher } from './publisher.js';

export interface LiveParts {
  readonly config: Readonly<GyreConfig>;
  readonly resolver: ChannelResolver;
  readonly publisher: Publisher;
  readonly tokenVerifier: TokenVerifier;
  readonly proxies: ProxyRegistry;
}

export function buildLiveParts(
  config: Readonly<GyreConfig>,
  broker: Broker,
  tokenVerifier: TokenVerifier,
  proxies: ProxyRegistry,
): LiveParts {
  const resolver = new ChannelResolver(config.channel);
  return Object.freeze({
    config,
    resolver,
    publisher: new Publisher(broker, config.channel.history_meta_ttl),
    tokenVerifier,
    proxies,
  });
}
