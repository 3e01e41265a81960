// A complete GyreConfig with Centrifugo v6 defaults (docs/protocol.md §8.3) for core unit tests, independent of the
// config loader. Durations in ms.
import type {
  ChannelConfig,
  ChannelOptions,
  ClientConfig,
  GyreConfig,
  NamespaceConfig,
  ProxyConfig,
  RedisEngineConfig,
  SharedPollChannelConfig,
  TokenConfig,
} from '../../../src/config/types.js';

/** engine.redis defaults (Centrifugo v6). */
export function redisEngineDefaults(over: Partial<RedisEngineConfig> = {}): RedisEngineConfig {
  return {
    address: ['redis://127.0.0.1:6379'],
    prefix: 'centrifugo',
    connect_timeout: 1000,
    io_timeout: 4000,
    db: 0,
    user: '',
    password: '',
    client_name: '',
    force_resp2: false,
    cluster_address: [],
    tls: noTls(),
    sentinel_address: [],
    sentinel_user: '',
    sentinel_password: '',
    sentinel_master_name: '',
    sentinel_client_name: '',
    sentinel_tls: noTls(),
    replica_client: { enabled: false },
    history_use_lists: false,
    presence_ttl: 60_000,
    presence_hash_field_ttl: false,
    presence_user_mapping: false,
    ...over,
  };
}

/** A proxy block at Centrifugo's defaults (no endpoint). */
export function proxyDefaults(): ProxyConfig {
  return {
    endpoint: '',
    timeout: 1000,
    http_headers: [],
    grpc_metadata: [],
    emulated_headers: [],
    binary_encoding: false,
    include_connection_meta: false,
    http: { static_headers: {}, status_to_code_transforms: [], tls: noTls() },
    grpc: { credentials_key: '', credentials_value: '', compression: false, static_metadata: {}, tls: noTls() },
  };
}

/** channel.proxy at its defaults. */
export function channelProxyDefaults(): ChannelConfig['proxy'] {
  return {
    subscribe: proxyDefaults(),
    publish: proxyDefaults(),
    sub_refresh: proxyDefaults(),
    subscribe_stream: proxyDefaults(),
    shared_poll_refresh: proxyDefaults(),
    map_publish: proxyDefaults(),
    map_remove: proxyDefaults(),
  };
}

/** A namespace's shared_poll block at its defaults. */
export function sharedPollChannelDefaults(): SharedPollChannelConfig {
  return {
    proxy_name: '',
    refresh_interval: 0,
    refresh_batch_size: 0,
    max_keys_per_connection: 0,
    mode: '',
    channel_shutdown_delay: 0,
    track_expired_extra_delay: 0,
    publish_enabled: false,
  };
}

export function channelOptions(over: Partial<ChannelOptions> = {}): ChannelOptions {
  return {
    presence: false,
    join_leave: false,
    force_push_join_leave: false,
    history_size: 0,
    history_ttl: 0,
    history_meta_ttl: 0,
    force_positioning: false,
    allow_positioning: false,
    force_recovery: false,
    allow_recovery: false,
    force_recovery_mode: '',
    auto_cache_recover: false,
    allowed_delta_types: [],
    delta_publish: false,
    allow_tags_filter: false,
    allow_subscribe_for_client: false,
    allow_subscribe_for_anonymous: false,
    allow_publish_for_client: false,
    allow_publish_for_subscriber: false,
    allow_publish_for_anonymous: false,
    allow_presence_for_client: false,
    allow_presence_for_subscriber: false,
    allow_presence_for_anonymous: false,
    allow_history_for_client: false,
    allow_history_for_subscriber: false,
    allow_history_for_anonymous: false,
    allow_user_limited_channels: false,
    channel_regex: '',
    publication_data_format: '',
    subscription_type: '',
    shared_poll: sharedPollChannelDefaults(),
    subscribe_proxy_enabled: false,
    subscribe_proxy_name: 'default',
    publish_proxy_enabled: false,
    publish_proxy_name: 'default',
    sub_refresh_proxy_enabled: false,
    sub_refresh_proxy_name: 'default',
    subscribe_stream_proxy_enabled: false,
    subscribe_stream_proxy_name: 'default',
    subscribe_stream_proxy_bidirectional: false,
    ...over,
  };
}

export function namespace(name: string, over: Partial<ChannelOptions> = {}): NamespaceConfig {
  return { name, ...channelOptions(over) };
}

function token(): TokenConfig {
  return {
    hmac_secret_key: '',
    hmac_previous_secret_key: '',
    hmac_previous_secret_key_valid_until: 0,
    rsa_public_key: '',
    ecdsa_public_key: '',
    jwks_public_endpoint: '',
    audience: '',
    audience_regex: '',
    issuer: '',
    issuer_regex: '',
    user_id_claim: '',
    insecure_skip_jwks_endpoint_safety_check: false,
  };
}

export interface ConfigOverrides {
  client?: Partial<ClientConfig>;
  withoutNamespace?: Partial<ChannelOptions>;
  namespaces?: NamespaceConfig[];
  rpcPing?: { enabled: boolean; method: string };
}

export function makeConfig(o: ConfigOverrides = {}): GyreConfig {
  const client: ClientConfig = {
    allowed_origins: [],
    token: token(),
    subscription_token: { ...token(), enabled: false },
    allow_anonymous_connect_without_token: false,
    disallow_anonymous_connection_tokens: false,
    ping_interval: 25_000,
    pong_timeout: 8_000,
    expired_close_delay: 25_000,
    expired_sub_close_delay: 25_000,
    stale_close_delay: 10_000,
    channel_limit: 128,
    queue_max_size: 1_048_576,
    presence_update_interval: 27_000,
    concurrency: 0,
    channel_position_check_delay: 40_000,
    connection_limit: 0,
    user_connection_limit: 0,
    connection_rate_limit: 0,
    ip_connection_limit: 0,
    connect_include_server_time: false,
    history_max_publication_limit: 300,
    recovery_max_publication_limit: 300,
    insecure_skip_token_signature_verify: false,
    user_id_http_header: '',
    insecure: false,
    subscribe_to_user_personal_channel: { enabled: false, personal_channel_namespace: '', single_connection: false },
    connect_code_to_unidirectional_disconnect: { enabled: false, transforms: [] },
    proxy: { connect: { ...proxyDefaults(), enabled: false }, refresh: { ...proxyDefaults(), enabled: false } },
    ...o.client,
  };
  return {
    http_server: {
      address: '',
      port: 8000,
      internal_address: '',
      internal_port: 0,
      tls: noTls(),
      tls_external: false,
      internal_tls: noTls(),
      backlog: 511,
      warmup_connections: 0,
      max_handshakes_in_flight: 0,
      handshake_wait_budget: 0,
      fd_reserve: 64,
    },
    log: { level: 'none', file: '' },
    engine: { type: 'memory', redis: redisEngineDefaults() },
    client,
    channel: {
      proxy: channelProxyDefaults(),
      without_namespace: channelOptions(o.withoutNamespace),
      namespaces: o.namespaces ?? [],
      history_meta_ttl: 720 * 3600 * 1000,
      publication_data_format: '',
      max_length: 255,
      private_prefix: '$',
      namespace_boundary: ':',
      user_boundary: '#',
      user_separator: ',',
    },
    rpc: {
      ping: o.rpcPing ?? { enabled: false, method: 'ping' },
      proxy: proxyDefaults(),
      without_namespace: { proxy_enabled: false, proxy_name: 'default' },
      namespaces: [],
      namespace_boundary: ':',
    },
    proxies: [],
    http_api: { disabled: false, handler_prefix: '/api', key: '', error_mode: '', external: false, insecure: false, max_request_body_size: 10 * 1024 * 1024, max_batch_size: 1_000_000 },
    uni_grpc: { enabled: false, address: '', port: 11000, max_receive_message_size: 0, tls: noTls() },
    grpc_api: { enabled: false, error_mode: '', address: '', port: 10000, key: '', tls: noTls(), max_receive_message_size: 0, reflection: false },
    websocket: { disabled: false, handler_prefix: '/connection/websocket', compression: false, compression_min_size: 0, compression_level: 1, write_timeout: 1000, message_size_limit: 65536 },
    http_stream: { enabled: false, handler_prefix: '/connection/http_stream', max_request_body_size: 65536 },
    sse: { enabled: false, handler_prefix: '/connection/sse', max_request_body_size: 65536 },
    emulation: { handler_prefix: '/emulation', max_request_body_size: 65536 },
    uni_websocket: {
      enabled: false,
      handler_prefix: '/connection/uni_websocket',
      compression: false,
      compression_min_size: 0,
      compression_level: 1,
      message_size_limit: 65536,
      join_push_messages: false,
      disable_disconnect_push: false,
      disable_closing_handshake: false,
    },
    uni_sse: {
      enabled: false,
      handler_prefix: '/connection/uni_sse',
      max_request_body_size: 65536,
      connect_code_to_http_response: { enabled: false, transforms: [] },
    },
    uni_http_stream: {
      enabled: false,
      handler_prefix: '/connection/uni_http_stream',
      max_request_body_size: 65536,
      connect_code_to_http_response: { enabled: false, transforms: [] },
    },
    health: { enabled: false, handler_prefix: '/health', ready_handler_prefix: '/ready' },
    prometheus: { enabled: false, handler_prefix: '/metrics', recovered_publications_histogram: false },
    admin: { enabled: false, handler_prefix: '', password: '', secret: '', insecure: false, external: false, token_ttl: 86_400_000 },
    shutdown: { timeout: 30_000, drain_duration: 0, pre_drain_delay: 0 },
    node: { name: 'test-node', info_metrics_aggregate_interval: 60_000, workers: 1, workers_scheduling: 'rr', listen_copies: 8, worker_node_args: [] },
    pid_file: '',
    usage_stats: { disabled: false },
  };
}

function noTls(): GyreConfig['http_server']['tls'] {
  return { enabled: false, cert_pem: '', key_pem: '', server_ca_pem: '', client_ca_pem: '', insecure_skip_verify: false, server_name: '' };
}
