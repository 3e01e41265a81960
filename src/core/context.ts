// What sessions and command handlers see of the node: its parts, wired once by core/node.ts.
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/types.js';
import type { GyreConfig } from '../config/types.js';
import type { MapBroker } from '../engines/map-types.js';
import type { Engine } from '../engines/types.js';
import type { Codec } from '../protocol/codec.js';
import type { ProxyRegistry } from '../proxy/types.js';
import type { Command } from '../protocol/types.js';
import type { ChannelResolver } from './channels.js';
import type { Hub } from './hub.js';
import type { Publisher } from './publisher.js';
import type { Session } from './session.js';
import type { SharedPollManager } from './shared-poll/manager.js';

/**
 * Runs one client command for a session (commands/index.ts; injected so session.ts does not import the handlers):
 * undefined when it completed at once, else a Promise of its end. Errors are thrown or rejected.
 */
export type CommandDispatcher = (s: Session, cmd: Command) => Promise<void> | undefined;

export interface CoreContext {
  readonly config: GyreConfig;
  readonly engine: Engine;
  /** Store of map subscriptions (core/map); undefined when the node was built without one (108). */
  readonly mapBroker: MapBroker | undefined;
  readonly hub: Hub;
  readonly resolver: ChannelResolver;
  readonly publisher: Publisher;
  readonly tokenVerifier: TokenVerifier;
  /** Proxies to the application backend (src/proxy); replaced with the config on reload. */
  readonly proxies: ProxyRegistry;
  readonly logger: Logger;
  readonly version: string;
  /** This node's id (control plane uid; the `node` of emulation connect results). */
  readonly nodeId: string;
  readonly codecs: { readonly json: Codec; readonly protobuf: Codec };
  readonly dispatch: CommandDispatcher;
  /** Shared poll subscriptions (docs/shared-poll.md); undefined when no namespace uses them. */
  readonly sharedPoll: SharedPollManager | undefined;
  /** True once shutdown started. */
  readonly shuttingDown: boolean;
}
