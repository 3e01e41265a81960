// The typed, validated configuration that the rest of Gyre receives (deep-frozen, built once at start-up by
// config/load.ts + validate.ts). Key names are Centrifugo v6's (docs/protocol.md §8.3): they are the compatibility
// contract. Durations are parsed once: every duration field below is a number of MILLISECONDS.

export type MapSubscriptionType = 'map' | 'map_clients' | 'map_users';

/** A namespace's `map` block. Durations in ms; 0 = unset (Centrifugo's defaults apply, src/core/map/options.ts). */
export interface MapOptions {
  mode: string;
  key_ttl: number;
  stream_size: number;
  stream_ttl: number;
  meta_ttl: number;
  remove_client_on_unsubscribe: boolean;
  client_key: string;
  allow_publish_for_client: boolean;
  allow_publish_for_subscriber: boolean;
  allow_publish_for_anonymous: boolean;
  allow_remove_for_client: boolean;
  allow_remove_for_subscriber: boolean;
  allow_remove_for_anonymous: boolean;
  default_page_size: number;
  min_page_size: number;
  max_page_size: number;
  live_transition_max_publication_limit: number;
  subscribe_catch_up_timeout: number;
  /** Client map publishes / removes go to the backend first ("default" = channel.proxy.map_publish / map_remove). */
  publish_proxy_enabled: boolean;
  publish_proxy_name: string;
  remove_proxy_enabled: boolean;
  remove_proxy_name: string;
}

export interface ChannelOptions {
  presence: boolean;
  join_leave: boolean;
  force_push_join_leave: boolean;
  history_size: number;
  history_ttl: number; // ms
  history_meta_ttl: number; // ms; 0 ⇒ channel.history_meta_ttl
  force_positioning: boolean;
  allow_positioning: boolean;
  force_recovery: boolean;
  allow_recovery: boolean;
  force_recovery_mode: '' | 'stream' | 'cache';
  auto_cache_recover: boolean;
  allowed_delta_types: string[];
  delta_publish: boolean;
  allow_tags_filter: boolean;
  allow_subscribe_for_client: boolean;
  allow_subscribe_for_anonymous: boolean;
  allow_publish_for_client: boolean;
  allow_publish_for_subscriber: boolean;
  allow_publish_for_anonymous: boolean;
  allow_presence_for_client: boolean;
  allow_presence_for_subscriber: boolean;
  allow_presence_for_anonymous: boolean;
  allow_history_for_client: boolean;
  allow_history_for_subscriber: boolean;
  allow_history_for_anonymous: boolean;
  allow_user_limited_channels: boolean;
  channel_regex: string;
  publication_data_format: '' | 'json' | 'json_object' | 'binary';
  subscription_type: '' | 'stream' | MapSubscriptionType | 'shared_poll';
  /** Map subscription settings (docs/map-subscriptions.md); absent unless configured. */
  map?: MapOptions | undefined;
  /** Map namespaces: a `map_clients` channel named this prefix + the channel tracks its subscribers. */
  map_clients_presence_channel_prefix?: string | undefined;
  /** Map namespaces: a `map_users` channel named this prefix + the channel tracks its users. */
  map_users_presence_channel_prefix?: string | undefined;
  /** Options of `subscription_type: shared_poll` (docs/shared-poll.md). */
  shared_poll: SharedPollChannelConfig;
  /** Proxies (src/proxy): a `*_proxy_name` of "default" is the matching `channel.proxy.*` block. */
  subscribe_proxy_enabled: boolean;
  subscribe_proxy_name: string;
  publish_proxy_enabled: boolean;
  publish_proxy_name: string;
  sub_refresh_proxy_enabled: boolean;
  sub_refresh_proxy_name: string;
  /** Subscriptions stream from the backend (GRPC subscribe stream proxy, docs/proxy.md). */
  subscribe_stream_proxy_enabled: boolean;
  subscribe_stream_proxy_name: string;
  /** The stream also carries the client's publications to the backend. */
  subscribe_stream_proxy_bidirectional: boolean;
}

/** A namespace's shared poll options; 0 / "" mean the built-in defaults (docs/shared-poll.md). */
export interface SharedPollChannelConfig {
  /** Proxy answering shared_poll_refresh calls; "" or "default" = channel.proxy.shared_poll_refresh. */
  proxy_name: string;
  refresh_interval: number; // ms; 0 ⇒ 10s
  refresh_batch_size: number; // 0 ⇒ 1000
  max_keys_per_connection: number; // 0 ⇒ 5000
  /** "" and "versionless": the server detects changes by content; "versioned": the backend's versions. */
  mode: '' | 'versionless' | 'versioned';
  channel_shutdown_delay: number; // ms; 0 ⇒ 1s
  track_expired_extra_delay: number; // ms; 0 ⇒ 25s
  /** shared_poll_publish is allowed (versioned mode only). */
  publish_enabled: boolean;
}

/** Top-level `shared_poll`: the key that signs track requests (with rotation) and the backend call bound. */
export interface SharedPollConfig {
  hmac_secret_key: string;
  hmac_previous_secret_key: string;
  /** Unix seconds; signatures issued after it are not accepted with the previous key (0 = no bound). */
  hmac_previous_secret_key_valid_until: number;
  /** Most backend refresh calls in flight at once on this node; 0 ⇒ 64. */
  concurrency_limit: number;
}

/** One HTTP status answered by the backend, turned into a client error or a disconnect (HTTP proxies only). */
export interface StatusToCodeTransform {
  status_code: number;
  to_error: { code: number; message: string; temporary: boolean };
  to_disconnect: { code: number; reason: string };
}

/** A proxy to the application backend: `http(s)://` endpoints are HTTP, anything else GRPC (host:port). */
export interface ProxyConfig {
  endpoint: string;
  timeout: number; // ms
  /** Client request header names forwarded to the backend (case-insensitive). */
  http_headers: string[];
  /** GRPC metadata keys forwarded from GRPC transports (none yet in Gyre). */
  grpc_metadata: string[];
  /** Header names taken from the connect command's `headers` (emulated headers, client-controlled). */
  emulated_headers: string[];
  /** Payloads travel as base64 (`b64data`/`b64info`) instead of raw JSON. */
  binary_encoding: boolean;
  /** Send the connection's `meta` (from the connect proxy or the token) with each call. */
  include_connection_meta: boolean;
  /** `tls` applies to https:// endpoints (config/pem.ts). */
  http: { static_headers: Record<string, string>; status_to_code_transforms: StatusToCodeTransform[]; tls: TlsConfig };
  /** `tls` on: the channel uses TLS instead of plaintext. */
  grpc: {
    credentials_key: string;
    credentials_value: string;
    compression: boolean;
    static_metadata: Record<string, string>;
    tls: TlsConfig;
  };
}

export interface NamedProxyConfig extends ProxyConfig {
  name: string;
}

export interface RpcOptions {
  proxy_enabled: boolean;
  proxy_name: string;
}

export interface NamespaceConfig extends ChannelOptions {
  name: string;
}

export interface TokenConfig {
  hmac_secret_key: string;
  hmac_previous_secret_key: string;
  hmac_previous_secret_key_valid_until: number; // unix seconds
  rsa_public_key: string;
  ecdsa_public_key: string;
  jwks_public_endpoint: string;
  audience: string;
  audience_regex: string;
  issuer: string;
  issuer_regex: string;
  user_id_claim: string;
  /** Skips the JWKS template safety check (validate-jwks.ts); Centrifugo's escape hatch, insecure. */
  insecure_skip_jwks_endpoint_safety_check: boolean;
}

export interface SubscriptionTokenConfig extends TokenConfig {
  enabled: boolean;
}

export interface ClientConfig {
  allowed_origins: string[];
  token: TokenConfig;
  subscription_token: SubscriptionTokenConfig;
  allow_anonymous_connect_without_token: boolean;
  disallow_anonymous_connection_tokens: boolean;
  ping_interval: number; // ms
  pong_timeout: number; // ms
  expired_close_delay: number; // ms
  expired_sub_close_delay: number; // ms
  stale_close_delay: number; // ms
  channel_limit: number;
  queue_max_size: number; // bytes
  presence_update_interval: number; // ms
  concurrency: number;
  channel_position_check_delay: number; // ms
  connection_limit: number;
  user_connection_limit: number;
  /** Centrifugo's key, implemented as a true rate: up to N new connections per second (src/transports/admission.ts). */
  connection_rate_limit: number;
  /** Gyre extension: open WebSocket connections per remote address, 0 = off. */
  ip_connection_limit: number;
  connect_include_server_time: boolean;
  history_max_publication_limit: number;
  recovery_max_publication_limit: number;
  insecure_skip_token_signature_verify: boolean;
  user_id_http_header: string;
  insecure: boolean;
  subscribe_to_user_personal_channel: {
    enabled: boolean;
    personal_channel_namespace: string;
    single_connection: boolean;
  };
  /** Unidirectional transports: connect error code → disconnect (src/core/uni-connect.ts). */
  connect_code_to_unidirectional_disconnect: {
    enabled: boolean;
    transforms: { code: number; to: { code: number; reason: string } }[];
  };
  /** Connect and refresh proxies (src/proxy); a refresh proxy makes connection refresh server-side. */
  proxy: { connect: ProxyConfig & { enabled: boolean }; refresh: ProxyConfig & { enabled: boolean } };
}

/** http_stream and sse (bidirectional emulation). */
export interface EmulationTransportConfig {
  enabled: boolean;
  handler_prefix: string;
  /** bytes: initial request body (413 above it). */
  max_request_body_size: number;
}

/** uni_sse and uni_http_stream. */
export interface UniHttpTransportConfig {
  enabled: boolean;
  handler_prefix: string;
  max_request_body_size: number;
  /** A connect refused before the stream starts is answered as an HTTP status (docs/transports.md). */
  connect_code_to_http_response: ConnectCodeToHttpResponse;
}

export interface ConnectCodeToHttpResponse {
  enabled: boolean;
  /** First match by code wins; an empty body is the error's message or the disconnect's reason. */
  transforms: { code: number; to: { status_code: number; body: string } }[];
}

/** permessage-deflate for the server's messages (websocket and uni_websocket). */
export interface WebSocketCompression {
  /** Offered by the client ⇒ negotiated. */
  compression: boolean;
  /** Messages shorter than this many bytes go uncompressed (0 = compress all). */
  compression_min_size: number;
  /** zlib level, -1..9. */
  compression_level: number;
}

export interface UniWebSocketConfig extends WebSocketCompression {
  enabled: boolean;
  handler_prefix: string;
  message_size_limit: number; // bytes
  join_push_messages: boolean;
  disable_disconnect_push: boolean;
  disable_closing_handshake: boolean;
}

export interface ChannelConfig {
  /** The "default" subscribe, publish, sub_refresh, subscribe_stream and shared_poll_refresh proxies. */
  proxy: {
    subscribe: ProxyConfig;
    publish: ProxyConfig;
    sub_refresh: ProxyConfig;
    subscribe_stream: ProxyConfig;
    shared_poll_refresh: ProxyConfig;
    map_publish: ProxyConfig;
    map_remove: ProxyConfig;
  };
  without_namespace: ChannelOptions;
  namespaces: NamespaceConfig[];
  history_meta_ttl: number; // ms
  publication_data_format: '' | 'json' | 'json_object' | 'binary';
  max_length: number;
  private_prefix: string;
  namespace_boundary: string;
  user_boundary: string;
  user_separator: string;
}

export type EngineType = 'memory' | 'redis';
/** `redisnats`: history in Redis (`broker.redis`), PUB/SUB and control in NATS (`broker.nats`); unreleased. */
export type BrokerType = 'memory' | 'redis' | 'nats' | 'redisnats';

/** Centrifugo's TLS block. Each *_pem holds raw PEM, base64-encoded PEM or a path to a PEM file. */
export interface TlsConfig {
  enabled: boolean;
  cert_pem: string;
  key_pem: string;
  /** Client side only in Centrifugo (verifying a server); accepted and unused by Gyre's servers. */
  server_ca_pem: string;
  /** Set: clients must present a certificate signed by this CA (mutual TLS). */
  client_ca_pem: string;
  /** Client side only (see server_ca_pem). */
  insecure_skip_verify: boolean;
  /** Client side only (see server_ca_pem). */
  server_name: string;
}

/** engine.redis (Centrifugo v6 configtypes RedisEngine). Durations in ms. */
export interface RedisEngineConfig {
  /** Shard addresses: `host:port` or `redis://[user:pass@]host:port[/db]` (also rediss, redis+sentinel, redis+cluster, unix). */
  address: string[];
  prefix: string;
  connect_timeout: number; // ms
  io_timeout: number; // ms
  db: number;
  user: string;
  password: string;
  client_name: string;
  force_resp2: boolean;
  /** One entry per shard; several addresses of one cluster comma-separated. */
  cluster_address: string[];
  tls: TlsConfig;
  /** One entry per shard; several Sentinels of one shard comma-separated. */
  sentinel_address: string[];
  sentinel_user: string;
  sentinel_password: string;
  sentinel_master_name: string;
  sentinel_client_name: string;
  sentinel_tls: TlsConfig;
  replica_client: { enabled: boolean };
  history_use_lists: boolean;
  presence_ttl: number; // ms
  presence_hash_field_ttl: boolean;
  presence_user_mapping: boolean;
}

/** presence_manager.redis (Centrifugo v6 configtypes RedisPresenceManager): engine.redis without broker keys. */
export type RedisPresenceConfig = Omit<RedisEngineConfig, 'history_use_lists'>;

/** broker.redis (Centrifugo v6 configtypes RedisBroker): engine.redis without presence keys. */
export type RedisBrokerConfig = Omit<RedisEngineConfig, 'presence_ttl' | 'presence_hash_field_ttl' | 'presence_user_mapping'>;

/** broker.nats (Centrifugo v6 configtypes NatsBroker, the keys Gyre implements). Durations in ms. */
export interface NatsBrokerConfig {
  /** One NATS URL, or several comma-separated (`nats://host:port`). */
  url: string;
  /** Subject prefix: `<prefix>.client.<channel>`, `<prefix>.control`, `<prefix>.node.<id>`. */
  prefix: string;
  dial_timeout: number; // ms
  write_timeout: number; // ms
}

/** consumers[].postgresql (Centrifugo v6 PostgresConsumerConfig). Durations in ms. */
export interface PostgresConsumerConfig {
  /** `postgres://user:pass@host:port/db` (libpq URL or key=value string). */
  dsn: string;
  /** Table with columns id (bigserial), method (text), payload (jsonb/bytea/text), partition (bigint). */
  outbox_table_name: string;
  /** Partitions 0..n-1, each consumed in id order by one loop; 0 ⇒ 1. */
  num_partitions: number;
  /** Rows read per partition per transaction; 0 ⇒ 100. */
  partition_select_limit: number;
  /** Wait between polls of a partition that had fewer rows than the limit; 0 ⇒ 300 ms. */
  partition_poll_interval: number; // ms
  /** LISTEN channel: a NOTIFY with the partition number as payload polls that partition at once. */
  partition_notification_channel: string;
  /** Separate DSN for the LISTEN connection (e.g. when `dsn` goes through a transaction-pooling PgBouncer). */
  partition_notification_dsn: string;
  tls: TlsConfig;
  /** pg_try_advisory_xact_lock instead of waiting in pg_advisory_xact_lock for a partition held elsewhere. */
  use_try_lock: boolean;
}

/** consumers[].kafka (Centrifugo v6 KafkaConsumerConfig, without AWS MSK IAM). Durations in ms. */
export interface KafkaConsumerConfig {
  /** Seed brokers, `host:port`. */
  brokers: string[];
  topics: string[];
  consumer_group: string;
  /** Records buffered from the broker at most (the fetch stream's high-water mark). */
  max_poll_records: number;
  /** Most bytes per fetch; 0 ⇒ the client's default. */
  fetch_max_bytes: number;
  fetch_max_wait: number; // ms
  fetch_read_uncommitted: boolean;
  /** Fetching pauses while this many records wait to be run (-1: after every fetch). */
  partition_queue_max_size: number;
  dial_timeout: number; // ms
  tls: TlsConfig;
  sasl_mechanism: '' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
  sasl_user: string;
  sasl_password: string;
  /** Static group membership (group.instance.id). */
  instance_id: string;
  /** Header naming the API method; absent ⇒ the value is a `{"method","payload"}` envelope. */
  method_header: string;
  /** The value is publication data; channels and options come from headers. */
  publication_data_mode: {
    enabled: boolean;
    channels_header: string;
    idempotency_key_header: string;
    delta_header: string;
    /** Read and checked (a malformed value skips the record) but not enforced: Gyre has no publication versions. */
    version_header: string;
    version_epoch_header: string;
    tags_header_prefix: string;
  };
}

/** One entry of `consumers` (Centrifugo v6 configtypes Consumer, the types Gyre implements). */
export interface ConsumerConfig {
  /** Matches ^[a-zA-Z0-9_]{2,}$, unique; names the consumer in logs, metrics and the advisory lock keys. */
  name: string;
  enabled: boolean;
  /** "postgresql" | "kafka" when enabled (validate.ts). */
  type: string;
  postgresql: PostgresConsumerConfig;
  kafka: KafkaConsumerConfig;
}

export interface GyreConfig {
  http_server: {
    address: string;
    port: number;
    internal_address: string;
    internal_port: number; // 0 ⇒ same as port
    /** TLS of the main server, and of the internal one unless `tls_external`. */
    tls: TlsConfig;
    /** TLS only on the external (main) port when the internal port is separate. */
    tls_external: boolean;
    /** When enabled, the internal server's own TLS instead of `tls`. */
    internal_tls: TlsConfig;
    /** Gyre extension: listen backlog for bursts of connects. */
    backlog: number;
    /**
     * Gyre extension: loopback connect+subscribe handshakes run through a private copy of the server before the
     * real port opens, so a fresh node meets its first reconnect storm with optimised code (src/warmup.ts). 0 = off.
     */
    warmup_connections: number;
    /** Gyre extension: upgraded connections still waiting for their connect reply, at most; 0 = off. */
    max_handshakes_in_flight: number;
    /** Gyre extension: refuse a new client at once when it would wait longer than this (ms); 0 = off. */
    handshake_wait_budget: number;
    /** Gyre extension: refuse new connections when fewer file descriptors than this are left. */
    fd_reserve: number;
  };
  log: { level: 'none' | 'trace' | 'debug' | 'info' | 'warn' | 'error'; file: string };
  /** The combined broker + presence manager (+ controller). Each engine type adds its own slice here. */
  engine: { type: EngineType; redis: RedisEngineConfig };
  /**
   * Centrifugo v6's split set-up: when enabled, the broker (PUB/SUB, history, control plane) comes from this type
   * instead of `engine`. Optional so hand-built configs may omit it; loadConfig always fills it.
   */
  broker?: { enabled: boolean; type: BrokerType; redis: RedisBrokerConfig; nats: NatsBrokerConfig };
  /** Like `broker`, for the presence manager. */
  presence_manager?: { enabled: boolean; type: EngineType; redis: RedisPresenceConfig };
  client: ClientConfig;
  channel: ChannelConfig;
  rpc: {
    ping: { enabled: boolean; method: string };
    proxy: ProxyConfig;
    without_namespace: RpcOptions;
    namespaces: Array<RpcOptions & { name: string }>;
    namespace_boundary: string;
  };
  /** Named proxies, referenced by `*_proxy_name` (Centrifugo's `proxies` list). */
  proxies: NamedProxyConfig[];
  http_api: {
    disabled: boolean;
    handler_prefix: string;
    key: string;
    error_mode: '' | 'transport';
    external: boolean;
    insecure: boolean;
    /** Gyre extension: largest request body in bytes (⇒ 413 above it, refused before reading it all). */
    max_request_body_size: number;
    /** Gyre extension: most commands in one `/api/batch` (⇒ 400 above it). */
    max_batch_size: number;
  };
  /** The unidirectional GRPC transport (src/grpc/uni-stream.ts, docs/grpc.md), on its own port. */
  uni_grpc: {
    enabled: boolean;
    address: string;
    port: number;
    /** Largest request (ConnectRequest) in bytes; 0 ⇒ 4 MiB, the GRPC default. */
    max_receive_message_size: number;
    tls: TlsConfig;
  };
  /** The GRPC server API (src/grpc/api-service.ts, docs/grpc.md), on its own port. */
  grpc_api: {
    enabled: boolean;
    error_mode: '' | 'transport';
    address: string;
    port: number;
    /** Set: every call must carry metadata `authorization: apikey <key>`. */
    key: string;
    tls: TlsConfig;
    /** Largest request message in bytes; 0 ⇒ 4 MiB, the GRPC default. */
    max_receive_message_size: number;
    /** Serve GRPC server reflection on the API port (src/grpc/reflection.ts). */
    reflection: boolean;
  };
  websocket: WebSocketCompression & {
    disabled: boolean;
    handler_prefix: string;
    write_timeout: number; // ms
    message_size_limit: number; // bytes
  };
  http_stream: EmulationTransportConfig;
  sse: EmulationTransportConfig;
  /** `/emulation`: served when http_stream or sse is enabled. */
  emulation: { handler_prefix: string; max_request_body_size: number };
  uni_websocket: UniWebSocketConfig;
  uni_sse: UniHttpTransportConfig;
  uni_http_stream: UniHttpTransportConfig;
  /** ready_handler_prefix (Gyre extension): readiness, 503 from the start of a shutdown. */
  health: { enabled: boolean; handler_prefix: string; ready_handler_prefix: string };
  prometheus: { enabled: boolean; handler_prefix: string; recovered_publications_histogram: boolean };
  /** Admin endpoints and web UI (src/admin): on the internal port unless `external`. */
  admin: {
    enabled: boolean;
    /** Prefix of `/admin/init`, `/admin/auth`, `/admin/api` and the UI (Centrifugo: "" ⇒ at the root). */
    handler_prefix: string;
    password: string;
    /** Signs admin tokens (HMAC-SHA256). */
    secret: string;
    /** No authentication at all (protect the port by other means). */
    insecure: boolean;
    external: boolean;
    /** Gyre extension: lifetime of an admin token in ms (Centrifugo's securecookie tokens: 30 days). */
    token_ttl: number;
  };
  /** ms. drain_duration and pre_drain_delay are Gyre extensions (src/core/shutdown.ts). */
  shutdown: { timeout: number; drain_duration: number; pre_drain_delay: number };
  node: {
    name: string;
    info_metrics_aggregate_interval: number; // ms
    /**
     * Gyre extension: worker processes serving the port, each a full node (src/cluster/, docs/workers.md);
     * 'auto' = one per CPU. 1 = no workers (this process serves).
     */
    workers: number | 'auto';
    /**
     * Gyre extension: how connections reach the workers. 'rr': the primary accepts and hands each one over
     * round-robin (measured: no refused connects under load, docs/workers.md); 'none': every worker accepts on
     * the shared listen socket (less CPU); one over its share of the connections stops accepting for a while
     * (src/cluster/share-cap.ts).
     */
    workers_scheduling: 'rr' | 'none';
    /**
     * Gyre extension: under 'none', how many descriptors of the main port's listening socket each worker listens
     * on (sent by the primary, which owns the socket). Node 20 accepts one connection per ready descriptor and
     * event-loop turn, so more copies drain the kernel's accept queue faster in a connect burst (docs/workers.md).
     */
    listen_copies: number;
    /**
     * Gyre extension: node/V8 flags the primary adds to every worker's command line, after its own node flags
     * (process.execArgv). A flag the operator set on the primary's command line or in NODE_OPTIONS is not added:
     * the operator's value wins. Checked once with `node <flags> -e ''` before the first fork (docs/workers.md).
     */
    worker_node_args: string[];
  };
  pid_file: string;
  /**
   * Centrifugo's switch for unreleased features: `broker.type: redisnats` is refused without it. Optional so
   * hand-built configs may omit it; loadConfig always fills it.
   */
  enable_unreleased_features?: boolean;
  /** Centrifugo's anonymous usage statistics; Gyre never sends any, whatever `disabled` says. */
  usage_stats: { disabled: boolean };
  /** Shared poll subscriptions (docs/shared-poll.md); optional so hand-built configs may omit it. */
  shared_poll?: SharedPollConfig;
  /** Async consumers of server API commands (src/consumers, docs/consumers.md). Optional in hand-built configs. */
  consumers?: ConsumerConfig[];
  /** Store of map subscriptions (only `memory` is built). Optional in hand-built configs. */
  map_broker?: { type: 'memory' | 'redis' | 'postgres' };
}
