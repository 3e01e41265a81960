// Wire-level types of the Centrifugo client protocol (v2), shared by the server, the load tester and the
// browser add-on. Field names are the proto field names (snake_case), identical to the JSON encoding.
// Runtime-agnostic: no node:* imports, no Buffer.
//
// `Raw` fields carry payload bytes exactly as received: JSON text for JSON connections (never parsed on
// the fan-out path) or arbitrary bytes for protobuf connections.

export type Raw = Uint8Array;

export type ProtocolFormat = 'json' | 'protobuf';

export interface StreamPosition {
  offset: number;
  epoch: string;
}

export interface ClientInfo {
  user: string;
  client: string;
  conn_info?: Raw;
  chan_info?: Raw;
}

export interface Publication {
  data: Raw;
  info?: ClientInfo;
  offset?: number;
  tags?: Record<string, string>;
  delta?: boolean;
  time?: number;
  channel?: string;
  /** Item key (keyed subscriptions: shared poll, map). */
  key?: string;
  /** The keyed item was removed (keyed subscriptions). */
  removed?: boolean;
  /** Stream epoch; Centrifugo sets it only on the publication with offset 1 so clients learn the epoch. */
  epoch?: string;
  /** Item version (keyed subscriptions); a client keeps the highest it has seen per key. */
  version?: number;
}

// ---------------------------------------------------------------------------------------------------
// Requests (client → server)

export interface ConnectRequest {
  token?: string;
  data?: Raw;
  subs?: Record<string, SubscribeRequest>;
  name?: string;
  version?: string;
  headers?: Record<string, string>;
  flag?: number;
}

export interface SubscribeRequest {
  channel: string;
  token?: string;
  recover?: boolean;
  epoch?: string;
  offset?: number;
  data?: Raw;
  positioned?: boolean;
  recoverable?: boolean;
  join_leave?: boolean;
  delta?: string;
  /** Tags filter; kept opaque, Gyre answers 107 when the namespace does not allow it. */
  tf?: unknown;
  flag?: number;
  type?: number;
  /** Map subscriptions: 2 state, 1 stream, 0 live (the phase asked for), page cursor and size, score order. */
  phase?: number;
  cursor?: string;
  limit?: number;
  asc?: boolean;
}

export interface UnsubscribeRequest {
  channel: string;
}
export interface PublishRequest {
  channel: string;
  data?: Raw;
  /** 1 = a map publish (or, with `removed`, a map remove) of `key`. */
  type?: number;
  key?: string;
  removed?: boolean;
}
export interface PresenceRequest {
  channel: string;
}
export interface PresenceStatsRequest {
  channel: string;
}
export interface HistoryRequest {
  channel: string;
  limit?: number;
  since?: StreamPosition;
  reverse?: boolean;
}
export interface RpcRequest {
  data?: Raw;
  method?: string;
}
export interface SendRequest {
  data?: Raw;
}
export interface RefreshRequest {
  token: string;
}
/** A keyed item as a client tracks it: its key and the version the client holds (0 = none). */
export interface KeyedItem {
  key: string;
  version?: number;
}

/** One signed batch of a shared-poll track request: the signature covers exactly these keys. */
export interface TrackBatch {
  signature: string;
  items: KeyedItem[];
}

/** `type` 0 refreshes the subscription token; 1 tracks (`track`) and 2 untracks (`untrack`) shared-poll keys. */
export interface SubRefreshRequest {
  channel: string;
  token?: string;
  type?: number;
  track?: TrackBatch[];
  untrack?: string[];
}

/**
 * A decoded client command. Exactly one request field is meaningful; the codec produces the discriminated
 * form below (`kind`), picking the first non-null request field in Centrifugo's detection order.
 * A command with id 0 and no request is a pong (`kind: 'pong'`).
 */
export type Command =
  | { kind: 'pong'; id: 0 }
  | { kind: 'connect'; id: number; connect: ConnectRequest }
  | { kind: 'subscribe'; id: number; subscribe: SubscribeRequest }
  | { kind: 'unsubscribe'; id: number; unsubscribe: UnsubscribeRequest }
  | { kind: 'publish'; id: number; publish: PublishRequest }
  | { kind: 'presence'; id: number; presence: PresenceRequest }
  | { kind: 'presence_stats'; id: number; presence_stats: PresenceStatsRequest }
  | { kind: 'history'; id: number; history: HistoryRequest }
  | { kind: 'rpc'; id: number; rpc: RpcRequest }
  | { kind: 'send'; id: number; send: SendRequest }
  | { kind: 'refresh'; id: number; refresh: RefreshRequest }
  | { kind: 'sub_refresh'; id: number; sub_refresh: SubRefreshRequest }
  /** id > 0 with no known request (including a bare `ping`): the server disconnects with 3501. */
  | { kind: 'unknown'; id: number };

export type CommandKind = Command['kind'];

// ---------------------------------------------------------------------------------------------------
// Results (server → client)

export interface ProtocolErrorBody {
  code: number;
  message: string;
  temporary?: boolean;
}

export interface SubscribeResult {
  expires?: boolean;
  ttl?: number;
  recoverable?: boolean;
  epoch?: string;
  publications?: Publication[];
  recovered?: boolean;
  offset?: number;
  positioned?: boolean;
  data?: Raw;
  was_recovering?: boolean;
  delta?: boolean;
  /** Subscription type echoed back (0 stream, 4 shared poll, …). */
  type?: number;
  /** Map subscriptions: the phase answered (0 live, 1 stream, 2 state), next cursor, state entries. */
  phase?: number;
  cursor?: string;
  state?: Publication[];
  /** ms; the client debounces its publishes to the channel. */
  publish_debounce?: number;
}

export interface ConnectResult {
  client: string;
  version: string;
  expires?: boolean;
  ttl?: number;
  data?: Raw;
  subs?: Record<string, SubscribeResult>;
  ping?: number;
  pong?: boolean;
  session?: string;
  node?: string;
  time?: number;
}

export interface RefreshResult {
  client?: string;
  version?: string;
  expires?: boolean;
  ttl?: number;
}
export interface SubRefreshResult {
  expires?: boolean;
  ttl?: number;
  /** Shared-poll track: publications the server already holds for the tracked keys. */
  items?: Publication[];
}
export interface PresenceResult {
  presence: Record<string, ClientInfo>;
}
export interface PresenceStatsResult {
  num_clients: number;
  num_users: number;
}
export interface HistoryResult {
  publications: Publication[];
  epoch: string;
  offset: number;
}
export interface RpcResult {
  data?: Raw;
}

/** A reply to a command: exactly one of error / result. */
export type Reply =
  | { id: number; error: ProtocolErrorBody }
  | { id: number; connect: ConnectResult }
  | { id: number; subscribe: SubscribeResult }
  | { id: number; unsubscribe: Record<string, never> }
  | { id: number; publish: Record<string, never> }
  | { id: number; presence: PresenceResult }
  | { id: number; presence_stats: PresenceStatsResult }
  | { id: number; history: HistoryResult }
  | { id: number; rpc: RpcResult }
  | { id: number; refresh: RefreshResult }
  | { id: number; sub_refresh: SubRefreshResult };

// ---------------------------------------------------------------------------------------------------
// Pushes (server → client, Reply without id)

export interface JoinLeave {
  info: ClientInfo;
}
export interface UnsubscribePush {
  code: number;
  reason: string;
}
export interface MessagePush {
  data: Raw;
}
export interface SubscribePush {
  recoverable?: boolean;
  epoch?: string;
  offset?: number;
  positioned?: boolean;
  data?: Raw;
}
export interface DisconnectPush {
  code: number;
  reason: string;
}
export interface RefreshPush {
  expires?: boolean;
  ttl?: number;
}

export type Push =
  | { channel: string; pub: Publication }
  | { channel: string; join: JoinLeave }
  | { channel: string; leave: JoinLeave }
  | { channel: string; unsubscribe: UnsubscribePush }
  | { channel?: string; message: MessagePush }
  | { channel: string; subscribe: SubscribePush }
  | { channel?: string; connect: ConnectResult }
  | { channel?: string; disconnect: DisconnectPush }
  | { channel?: string; refresh: RefreshPush };
