// The Node facade used by the HTTP API (and later admin UI, gRPC): one method per server operation.
// Methods throw ApiError (protocol/errors.ts) with the API codes of docs/protocol.md §6.2.
import type { ClientInfo, Publication, StreamPosition } from '../protocol/types.js';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/types.js';
import type { GyreConfig } from '../config/types.js';
import type { Engine } from '../engines/types.js';
import type { MapBroker } from '../engines/map-types.js';
import type { MapApi } from './map/api.js';
import type { ProxyRegistry } from '../proxy/types.js';

export interface ApiPublishOptions {
  skipHistory?: boolean;
  tags?: Record<string, string>;
  idempotencyKey?: string;
  delta?: boolean;
}

export interface ApiPublishResult {
  offset?: number;
  epoch?: string;
}

export interface ApiSubscribeOptions {
  user: string;
  channel: string;
  client?: string;
  session?: string;
  info?: Uint8Array;
  data?: Uint8Array;
  recoverSince?: StreamPosition;
  expireAt?: number;
  override?: Partial<Record<'presence' | 'join_leave' | 'force_recovery' | 'force_positioning' | 'force_push_join_leave', boolean>>;
}

export interface ApiTarget {
  user: string;
  client?: string;
  session?: string;
}

export interface NodeInfo {
  uid: string;
  name: string;
  version: string;
  num_clients: number;
  num_users: number;
  num_channels: number;
  num_subs: number;
  uptime: number;
}

export type { SharedPollPublishRequest } from './shared-poll/publish.js';
import type { SharedPollPublishRequest } from './shared-poll/publish.js';

export interface NodeApi {
  /** Map subscriptions' server API (core/map/api.ts); absent on nodes built without it. */
  readonly map?: MapApi;
  publish(channel: string, data: Uint8Array, opts: ApiPublishOptions): Promise<ApiPublishResult>;
  subscribe(opts: ApiSubscribeOptions): Promise<void>;
  unsubscribe(target: ApiTarget & { channel: string }): Promise<void>;
  disconnect(target: ApiTarget & { whitelist?: string[]; code?: number; reason?: string }): Promise<void>;
  refresh(target: ApiTarget & { expired?: boolean; expireAt?: number; info?: Uint8Array }): Promise<void>;
  presence(channel: string): Promise<Record<string, ClientInfo>>;
  presenceStats(channel: string): Promise<{ num_clients: number; num_users: number }>;
  history(
    channel: string,
    opts: { limit: number; since?: StreamPosition; reverse?: boolean },
  ): Promise<{ publications: Publication[]; epoch: string; offset: number }>;
  historyRemove(channel: string): Promise<void>;
  /** Active channels with their local subscriber counts, filtered by a glob pattern when given. */
  channels(pattern?: string): Promise<Record<string, { num_clients: number }>>;
  info(): Promise<NodeInfo[]>;
  /** shared_poll_publish (docs/shared-poll.md); absent where shared poll is not served (then 108). */
  sharedPollPublish?(req: SharedPollPublishRequest): Promise<void>;
}

/** Construction options of core/node.ts `Node` (which implements NodeApi and SessionAcceptor). */
export interface NodeOptions {
  config: GyreConfig;
  engine: Engine;
  tokenVerifier: TokenVerifier;
  /** Proxies to the application backend (src/proxy/registry.ts); none when absent. */
  proxies?: ProxyRegistry;
  logger: Logger;
  /** Version string sent in ConnectResult.version, e.g. "0.1.0 Gyre". */
  version: string;
  /** Control-plane timings (tests shorten or stop them); defaults are centrifuge's. */
  control?: ControlTimings;
  /** Store of map subscriptions (docs/map-subscriptions.md); map commands answer 108 without one. */
  mapBroker?: MapBroker;
  /** In a worker process, its slot (1..node.workers): the node is named "<name>-w<slot>" (./node-name.ts). */
  workerSlot?: number | undefined;
}

export interface ControlTimings {
  heartbeatMs?: number;
  maxDelayMs?: number;
  cleanIntervalMs?: number;
  surveyTimeoutMs?: number;
  now?: () => number;
}
