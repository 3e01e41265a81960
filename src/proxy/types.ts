// The proxy seam (docs/proxy.md): the requests Gyre sends to the application backend, the results it reads back,
// and the ProxyClient that carries them over HTTP (http.ts) or GRPC (grpc.ts). Field names are Centrifugo v6's
// (proxy.proto); payload fields are opaque bytes, raw JSON on the HTTP wire unless binary_encoding is on.

export type ProxyKind =
  | 'connect'
  | 'refresh'
  | 'subscribe'
  | 'publish'
  | 'sub_refresh'
  | 'rpc'
  | 'shared_poll_refresh'
  | 'map_publish'
  | 'map_remove';

/** Fields every request starts with. */
export interface BaseRequest {
  client: string;
  transport: string;
  protocol: string;
  /** "json", or "binary" when the proxy's binary_encoding is on (payloads in b64* fields). */
  encoding: 'json' | 'binary';
}

export interface ConnectProxyRequest extends BaseRequest {
  data?: Uint8Array;
  b64data?: string;
  name?: string;
  version?: string;
  channels?: string[];
}

export interface RefreshProxyRequest extends BaseRequest {
  user: string;
  meta?: Uint8Array;
}

export interface SubscribeProxyRequest extends BaseRequest {
  user: string;
  channel: string;
  token?: string;
  meta?: Uint8Array;
  data?: Uint8Array;
  b64data?: string;
}

export interface PublishProxyRequest extends BaseRequest {
  user: string;
  channel: string;
  data?: Uint8Array;
  b64data?: string;
  meta?: Uint8Array;
}

export interface RpcProxyRequest extends BaseRequest {
  user: string;
  method: string;
  data?: Uint8Array;
  b64data?: string;
  meta?: Uint8Array;
}

export interface SubRefreshProxyRequest extends BaseRequest {
  user: string;
  channel: string;
  meta?: Uint8Array;
}

/** Subscription option overrides (absent = the namespace's value). */
export type ProxyOverride = Partial<
  Record<'presence' | 'join_leave' | 'force_recovery' | 'force_positioning' | 'force_push_join_leave', boolean>
>;

export interface ProxySubscribeOptions {
  expire_at: number;
  info?: Uint8Array;
  b64info: string;
  data?: Uint8Array;
  b64data: string;
  override?: ProxyOverride;
}

export interface ConnectProxyResult {
  user: string;
  expire_at: number;
  info?: Uint8Array;
  b64info: string;
  data?: Uint8Array;
  b64data: string;
  channels: string[];
  subs: Record<string, ProxySubscribeOptions>;
  meta?: Uint8Array;
}

export interface RefreshProxyResult {
  expired: boolean;
  expire_at: number;
  info?: Uint8Array;
  b64info: string;
  meta?: Uint8Array;
}

export type SubscribeProxyResult = ProxySubscribeOptions;

export interface PublishProxyResult {
  data?: Uint8Array;
  b64data: string;
  skip_history: boolean;
  tags: Record<string, string>;
  idempotency_key: string;
  delta: boolean;
}

export interface RpcProxyResult {
  data?: Uint8Array;
  b64data: string;
}

export interface SubRefreshProxyResult {
  expired: boolean;
  expire_at: number;
  info?: Uint8Array;
  b64info: string;
}

/** The keys of one shared poll channel whose state the backend is asked for (docs/shared-poll.md). */
export interface SharedPollRefreshProxyRequest {
  channel: string;
  items: Array<{ key: string; version?: number }>;
}

/** One key's current state: data with its version (0 in versionless mode), or removed. */
export interface SharedPollRefreshItem {
  key: string;
  data?: Uint8Array;
  version: number;
  removed: boolean;
  prev_data?: Uint8Array;
}

export interface SharedPollRefreshProxyResult {
  items: SharedPollRefreshItem[];
  /** The backend's data epoch (versioned mode): a change resets every key of the channel. */
  epoch: string;
}

/** A client's map publish (docs/map-subscriptions.md): the backend may change the key, data and options. */
export interface MapPublishProxyRequest extends BaseRequest {
  user: string;
  channel: string;
  key: string;
  data?: Uint8Array;
  b64data?: string;
  meta?: Uint8Array;
}

export interface MapPublishProxyResult {
  key: string;
  data?: Uint8Array;
  b64data: string;
  tags: Record<string, string>;
  key_mode: string;
  idempotency_key: string;
  delta: boolean;
  version: number;
  version_epoch: string;
}

/** A client's map remove; the backend may change the key. */
export interface MapRemoveProxyRequest extends BaseRequest {
  user: string;
  channel: string;
  key: string;
  meta?: Uint8Array;
}

export interface MapRemoveProxyResult {
  key: string;
  tags: Record<string, string>;
  idempotency_key: string;
}

/** Request and result types per proxy kind. */
export interface ProxyMessages {
  connect: { req: ConnectProxyRequest; res: ConnectProxyResult };
  refresh: { req: RefreshProxyRequest; res: RefreshProxyResult };
  subscribe: { req: SubscribeProxyRequest; res: SubscribeProxyResult };
  publish: { req: PublishProxyRequest; res: PublishProxyResult };
  sub_refresh: { req: SubRefreshProxyRequest; res: SubRefreshProxyResult };
  rpc: { req: RpcProxyRequest; res: RpcProxyResult };
  shared_poll_refresh: { req: SharedPollRefreshProxyRequest; res: SharedPollRefreshProxyResult };
  map_publish: { req: MapPublishProxyRequest; res: MapPublishProxyResult };
  map_remove: { req: MapRemoveProxyRequest; res: MapRemoveProxyResult };
}

export interface ProxyErrorBody {
  code: number;
  message: string;
  temporary: boolean;
}

export interface ProxyDisconnectBody {
  code: number;
  reason: string;
}

/** What the backend answered: a result, an error for the command, or a disconnect (each may be absent). */
export interface ProxyResponse<K extends ProxyKind> {
  result?: ProxyMessages[K]['res'];
  error?: ProxyErrorBody;
  disconnect?: ProxyDisconnectBody;
}

/** What a call forwards from the client connection besides the request body. */
export interface CallContext {
  /** The client's transport request headers (lower-case names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Headers the client sent in its connect command (emulation); forwarded only when in emulated_headers. */
  readonly emulatedHeaders?: Readonly<Record<string, string>> | undefined;
}

/** The call did not produce a usable answer: timeout, network, HTTP status, GRPC status or undecodable body. */
export class ProxyCallError extends Error {
  override readonly name = 'ProxyCallError';
  constructor(
    readonly reason: 'timeout' | 'transport' | 'status' | 'decode' | 'encode',
    message: string,
  ) {
    super(message);
  }
}

/** One configured proxy endpoint. Calls never hang past the proxy's timeout; failures reject with ProxyCallError. */
export interface ProxyClient {
  readonly name: string;
  readonly protocol: 'http' | 'grpc';
  readonly endpoint: string;
  /** binary_encoding: payloads go as b64data and results may carry b64 fields. */
  readonly binary: boolean;
  /** include_connection_meta: the connection's meta goes with every request but connect. */
  readonly includeMeta: boolean;
  call<K extends ProxyKind>(kind: K, req: ProxyMessages[K]['req'], ctx: CallContext): Promise<ProxyResponse<K>>;
  close(): void;
}

/** The proxies of one configuration; per-namespace ones are looked up by `*_proxy_name`. */
export interface ProxyRegistry {
  readonly connect: ProxyClient | undefined;
  readonly refresh: ProxyClient | undefined;
  subscribe(name: string): ProxyClient | undefined;
  publish(name: string): ProxyClient | undefined;
  subRefresh(name: string): ProxyClient | undefined;
  rpc(name: string): ProxyClient | undefined;
  subscribeStream(name: string): SubscribeStreamProxy | undefined;
  /** The proxy of a shared poll namespace (`shared_poll.proxy_name`, "" = "default"). */
  sharedPollRefresh(name: string): ProxyClient | undefined;
  /** The map publish / remove proxies of map namespaces (`map.publish_proxy_name`, `map.remove_proxy_name`). */
  mapPublish(name: string): ProxyClient | undefined;
  mapRemove(name: string): ProxyClient | undefined;
  close(): void;
}

// ---- Subscribe stream proxies (stream.ts): GRPC only, as in Centrifugo.

/** A publication the backend streams to one subscriber. */
export interface StreamPublication {
  data: Uint8Array;
  tags: Record<string, string>;
}

/** What the backend streams after its first answer; neither is called once the stream was cancelled. */
export interface StreamHandlers {
  onPublication(pub: StreamPublication): void;
  /** The stream ended: `eof` = the backend finished it (GRPC OK), `error` = any other end. Called once. */
  onEnd(reason: 'eof' | 'error'): void;
}

/** An open stream, after the backend's first message. */
export interface OpenStream {
  /** The backend's subscribe answer (its first message). */
  readonly answer: ProxyResponse<'subscribe'>;
  /** Bidirectional streams: sends a client publication to the backend (false once the stream ended). */
  publish(data: Uint8Array): boolean;
  /** Ends the stream from Gyre's side (idempotent); no handler is called afterwards. */
  cancel(): void;
}

/** One configured subscribe stream proxy. */
export interface SubscribeStreamProxy {
  readonly name: string;
  readonly endpoint: string;
  readonly binary: boolean;
  readonly includeMeta: boolean;
  /**
   * Opens a stream and waits for the backend's first message, at most the proxy's timeout (ProxyCallError
   * otherwise, and the stream is cancelled). Handlers start after it resolved.
   */
  open(bidirectional: boolean, req: SubscribeProxyRequest, ctx: CallContext, handlers: StreamHandlers): Promise<OpenStream>;
  close(): void;
}
