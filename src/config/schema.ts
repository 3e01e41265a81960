// The one schema of Gyre's configuration (zod v4). It mirrors Centrifugo v6's nested key tree for the keys Gyre
// implements, and only those: a Centrifugo key missing here is refused unless left at its default (support.ts,
// docs/config.md), so implementing a key means adding it here. Fills every default; durations are parsed to ms.
// Cross-field rules live in validate.ts. The key tree used for env vars, flags and unknown-key warnings is derived
// from this schema (keytree.ts), so there is no second list of keys.

import { z } from 'zod';
import type { GyreConfig } from './types.js';
import { durationFromConfig } from './duration.js';

/** Marks duration fields so keytree.ts (env/flags parsing, defaultconfig rendering) can find them. */
export const durationKinds = z.registry<{ kind: 'duration' }>();

const bool = (d: boolean) => z.boolean().default(d);
const str = (d = '') => z.string().default(d);
const int = (d: number, min = 0) => z.number().int().min(min).default(d);
const strings = () => z.array(z.string()).default(() => []);
/** permessage-deflate level: zlib's -1 (its default) to 9; Centrifugo's default is 1 (fastest). */
const compressionLevel = () => z.number().int().min(-1).max(9).default(1);

function dur(d: string) {
  const s = z.unknown().transform((v, ctx): number => {
    const r = durationFromConfig(v);
    if (r.ok) return r.ms;
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  });
  s.register(durationKinds, { kind: 'duration' });
  return s.prefault(d);
}

/** A TCP port; "" (Centrifugo's default for internal_port) and numeric strings are accepted. */
const port = (d: number) =>
  z
    .preprocess(
      (v) => (v === '' ? 0 : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
      z.number().int().min(0).max(65535),
    )
    .default(d);

/** Unix seconds; an RFC 3339 date string is also accepted. */
const unixSeconds = () =>
  z
    .preprocess((v) => {
      if (typeof v !== 'string' || v === '') return v === '' ? 0 : v;
      const t = Date.parse(v);
      return Number.isNaN(t) ? v : Math.floor(t / 1000);
    }, z.number().int().min(0))
    .default(0);

const dataFormat = () => z.enum(['', 'json', 'json_object', 'binary']).default('');

/** A namespace's `map` block (map subscription types); cross-key rules in validate-map.ts. */
const mapOptions = z.object({
  mode: str(),
  key_ttl: dur('0s'),
  stream_size: z.number().int().default(0),
  stream_ttl: dur('0s'),
  meta_ttl: dur('0s'),
  remove_client_on_unsubscribe: bool(false),
  client_key: str(),
  allow_publish_for_client: bool(false),
  allow_publish_for_subscriber: bool(false),
  allow_publish_for_anonymous: bool(false),
  allow_remove_for_client: bool(false),
  allow_remove_for_subscriber: bool(false),
  allow_remove_for_anonymous: bool(false),
  default_page_size: z.number().int().default(0),
  min_page_size: z.number().int().default(0),
  max_page_size: z.number().int().default(0),
  live_transition_max_publication_limit: int(0),
  subscribe_catch_up_timeout: dur('0s'),
  publish_proxy_enabled: bool(false),
  publish_proxy_name: str('default'),
  remove_proxy_enabled: bool(false),
  remove_proxy_name: str('default'),
});
/** A namespace's `shared_poll` block (docs/shared-poll.md); zero values mean the built-in defaults. */
const sharedPollChannel = z
  .object({
    proxy_name: str(),
    refresh_interval: dur('0s'),
    refresh_batch_size: int(0),
    max_keys_per_connection: int(0),
    mode: z.enum(['', 'versionless', 'versioned']).default(''),
    channel_shutdown_delay: dur('0s'),
    track_expired_extra_delay: dur('0s'),
    publish_enabled: bool(false),
  })
  .prefault({});

export const channelOptionsShape = {
  presence: bool(false),
  join_leave: bool(false),
  force_push_join_leave: bool(false),
  history_size: int(0),
  history_ttl: dur('0s'),
  history_meta_ttl: dur('0s'),
  force_positioning: bool(false),
  allow_positioning: bool(false),
  force_recovery: bool(false),
  allow_recovery: bool(false),
  force_recovery_mode: z.enum(['', 'stream', 'cache']).default(''),
  auto_cache_recover: bool(false),
  allowed_delta_types: strings(),
  delta_publish: bool(false),
  allow_tags_filter: bool(false),
  allow_subscribe_for_client: bool(false),
  allow_subscribe_for_anonymous: bool(false),
  allow_publish_for_client: bool(false),
  allow_publish_for_subscriber: bool(false),
  allow_publish_for_anonymous: bool(false),
  allow_presence_for_client: bool(false),
  allow_presence_for_subscriber: bool(false),
  allow_presence_for_anonymous: bool(false),
  allow_history_for_client: bool(false),
  allow_history_for_subscriber: bool(false),
  allow_history_for_anonymous: bool(false),
  allow_user_limited_channels: bool(false),
  channel_regex: str(),
  publication_data_format: dataFormat(),
  subscription_type: z.enum(['', 'stream', 'map', 'map_clients', 'map_users', 'shared_poll']).default(''),
  // Map subscriptions (src/core/map, docs/map-subscriptions.md): present only when set in the config.
  map: mapOptions.optional(),
  map_clients_presence_channel_prefix: z.string().optional(),
  map_users_presence_channel_prefix: z.string().optional(),
  shared_poll: sharedPollChannel,
  subscribe_proxy_enabled: bool(false),
  subscribe_proxy_name: str('default'),
  publish_proxy_enabled: bool(false),
  publish_proxy_name: str('default'),
  sub_refresh_proxy_enabled: bool(false),
  sub_refresh_proxy_name: str('default'),
  subscribe_stream_proxy_enabled: bool(false),
  subscribe_stream_proxy_name: str('default'),
  subscribe_stream_proxy_bidirectional: bool(false),
};

const channelOptions = z.object(channelOptionsShape);
const namespace = z.object({ name: z.string(), ...channelOptionsShape });

const tokenShape = {
  hmac_secret_key: str(),
  hmac_previous_secret_key: str(),
  hmac_previous_secret_key_valid_until: unixSeconds(),
  rsa_public_key: str(),
  ecdsa_public_key: str(),
  jwks_public_endpoint: str(),
  audience: str(),
  audience_regex: str(),
  issuer: str(),
  issuer_regex: str(),
  user_id_claim: str(),
  insecure_skip_jwks_endpoint_safety_check: bool(false),
};

/** Centrifugo's TLSConfig; each *_pem is raw PEM, base64-encoded PEM or a file path (src/http/tls.ts). */
const tlsConfig = z.object({
  enabled: bool(false),
  cert_pem: str(),
  key_pem: str(),
  server_ca_pem: str(),
  client_ca_pem: str(),
  insecure_skip_verify: bool(false),
  server_name: str(),
});

// ---- Proxies to the application backend (src/proxy, docs/proxy.md).
const stringMap = () => z.record(z.string(), z.string()).default(() => ({}));
const statusTransform = z.object({
  status_code: int(0),
  to_error: z.object({ code: int(0), message: str(), temporary: bool(false) }).prefault({}),
  to_disconnect: z.object({ code: int(0), reason: str() }).prefault({}),
});
const proxyShape = {
  endpoint: str(),
  timeout: dur('1s'),
  http_headers: strings(),
  grpc_metadata: strings(),
  emulated_headers: strings(),
  binary_encoding: bool(false),
  include_connection_meta: bool(false),
  http: z
    .object({
      static_headers: stringMap(),
      status_to_code_transforms: z.array(statusTransform).default(() => []),
      tls: tlsConfig.prefault({}),
    })
    .prefault({}),
  grpc: z
    .object({
      credentials_key: str(),
      credentials_value: str(),
      compression: bool(false),
      static_metadata: stringMap(),
      tls: tlsConfig.prefault({}),
    })
    .prefault({}),
};
const proxy = z.object(proxyShape);
const switchedProxy = z.object({ enabled: bool(false), ...proxyShape });
const rpcOptionsShape = { proxy_enabled: bool(false), proxy_name: str('default') };

/** Centrifugo's `{enabled, transforms: [{code, to}]}` blocks that convert a connect error code; `to` differs by transport kind. */
function codeTransforms<T extends z.ZodType>(to: T) {
  return z
    .object({ enabled: bool(false), transforms: z.array(z.object({ code: z.number().int().min(1), to })).default(() => []) })
    .prefault({});
}

const client = z.object({
  allowed_origins: strings(),
  token: z.object(tokenShape).prefault({}),
  subscription_token: z.object({ enabled: bool(false), ...tokenShape }).prefault({}),
  allow_anonymous_connect_without_token: bool(false),
  disallow_anonymous_connection_tokens: bool(false),
  ping_interval: dur('25s'),
  pong_timeout: dur('8s'),
  expired_close_delay: dur('25s'),
  expired_sub_close_delay: dur('25s'),
  stale_close_delay: dur('10s'),
  channel_limit: int(128),
  queue_max_size: int(1_048_576),
  presence_update_interval: dur('27s'),
  concurrency: int(0),
  channel_position_check_delay: dur('40s'),
  connection_limit: int(0),
  user_connection_limit: int(0),
  connection_rate_limit: int(0),
  ip_connection_limit: int(0),
  connect_include_server_time: bool(false),
  history_max_publication_limit: int(300),
  recovery_max_publication_limit: int(300),
  insecure_skip_token_signature_verify: bool(false),
  user_id_http_header: str(),
  insecure: bool(false),
  subscribe_to_user_personal_channel: z
    .object({ enabled: bool(false), personal_channel_namespace: str(), single_connection: bool(false) })
    .prefault({}),
  connect_code_to_unidirectional_disconnect: codeTransforms(
    z.object({ code: z.number().int().min(1), reason: z.string().refine((r) => [...r].every((ch) => ch.charCodeAt(0) < 128), 'reason must be ASCII').default('') }),
  ),
  proxy: z.object({ connect: switchedProxy.prefault({}), refresh: switchedProxy.prefault({}) }).prefault({}),
});

/** http_stream / sse: the bidirectional emulation transports. */
const emulationTransport = (prefix: string) =>
  z.object({ enabled: bool(false), handler_prefix: str(prefix), max_request_body_size: int(65536, 1) }).prefault({});

/** uni_sse / uni_http_stream; `connect_code_to_http_response` answers a refused connect with a status. */
const connectCodeToHttpResponse = codeTransforms(z.object({ status_code: z.number().int().min(100).max(599), body: str('') }));
const uniHttpTransport = (prefix: string) =>
  z
    .object({
      enabled: bool(false),
      handler_prefix: str(prefix),
      max_request_body_size: int(65536, 1),
      connect_code_to_http_response: connectCodeToHttpResponse,
    })
    .prefault({});

const channel = z.object({
  proxy: z
    .object({
      subscribe: proxy.prefault({}),
      publish: proxy.prefault({}),
      sub_refresh: proxy.prefault({}),
      subscribe_stream: proxy.prefault({}),
      shared_poll_refresh: proxy.prefault({}),
      map_publish: proxy.prefault({}),
      map_remove: proxy.prefault({}),
    })
    .prefault({}),
  without_namespace: channelOptions.prefault({}),
  namespaces: z.array(namespace).default(() => []),
  history_meta_ttl: dur('720h'),
  publication_data_format: dataFormat(),
  max_length: int(255, 1),
  private_prefix: str('$'),
  namespace_boundary: str(':'),
  user_boundary: str('#'),
  user_separator: str(','),
});

/** `node.worker_node_args` by default (docs/workers.md, "Flags of the worker processes"). */
export const WORKER_NODE_ARGS: readonly string[] = [];

/** A list of strings; a single string (env vars, flags) becomes a one-element list. */
const stringList = (d: string[]) =>
  z.preprocess((v) => (typeof v === 'string' ? (v === '' ? [] : [v]) : v), z.array(z.string())).default(() => d);

const redisEngine = z.object({
  address: stringList(['redis://127.0.0.1:6379']),
  prefix: str('centrifugo'),
  connect_timeout: dur('1s'),
  io_timeout: dur('4s'),
  db: int(0),
  user: str(),
  password: str(),
  client_name: str(),
  force_resp2: bool(false),
  cluster_address: stringList([]),
  tls: tlsConfig.prefault({}),
  sentinel_address: stringList([]),
  sentinel_user: str(),
  sentinel_password: str(),
  sentinel_master_name: str(),
  sentinel_client_name: str(),
  sentinel_tls: tlsConfig.prefault({}),
  replica_client: z.object({ enabled: bool(false) }).prefault({}),
  history_use_lists: bool(false),
  presence_ttl: dur('60s'),
  presence_hash_field_ttl: bool(false),
  presence_user_mapping: bool(false),
});

const natsBroker = z.object({
  url: str('nats://localhost:4222'),
  prefix: str('centrifugo'),
  dial_timeout: dur('1s'),
  write_timeout: dur('1s'),
});

/** consumers[].postgresql (Centrifugo v6 configtypes PostgresConsumerConfig). */
const postgresConsumer = z.object({
  dsn: str(),
  outbox_table_name: str(),
  num_partitions: int(1),
  partition_select_limit: int(100),
  partition_poll_interval: dur('300ms'),
  partition_notification_channel: str(),
  partition_notification_dsn: str(),
  tls: tlsConfig.prefault({}),
  use_try_lock: bool(false),
});

/** consumers[].kafka (Centrifugo v6 configtypes KafkaConsumerConfig; no AWS MSK IAM, so no assume_role_arn). */
const kafkaConsumer = z.object({
  brokers: stringList([]),
  topics: stringList([]),
  consumer_group: str(),
  max_poll_records: int(100),
  fetch_max_bytes: int(0),
  fetch_max_wait: dur('500ms'),
  fetch_read_uncommitted: bool(false),
  partition_queue_max_size: int(1000, -1),
  dial_timeout: dur('3s'),
  tls: tlsConfig.prefault({}),
  sasl_mechanism: z.enum(['', 'plain', 'scram-sha-256', 'scram-sha-512']).default(''),
  sasl_user: str(),
  sasl_password: str(),
  instance_id: str(),
  method_header: str('centrifugo-method'),
  publication_data_mode: z
    .object({
      enabled: bool(false),
      channels_header: str('centrifugo-channels'),
      idempotency_key_header: str('centrifugo-idempotency-key'),
      delta_header: str('centrifugo-delta'),
      version_header: str('centrifugo-version'),
      version_epoch_header: str('centrifugo-version-epoch'),
      tags_header_prefix: str('centrifugo-tag-'),
    })
    .prefault({}),
});

/** One entry of `consumers` (src/consumers). Only enabled entries run; `type` is checked in validate.ts. */
const consumer = z.object({
  name: str(),
  enabled: bool(false),
  type: str(),
  postgresql: postgresConsumer.prefault({}),
  kafka: kafkaConsumer.prefault({}),
});

export const configSchema = z.object({
  http_server: z
    .object({
      address: str(),
      port: port(8000),
      internal_address: str(),
      internal_port: port(0),
      tls: tlsConfig.prefault({}),
      tls_external: bool(false),
      internal_tls: tlsConfig.prefault({}),
      backlog: int(65535, 1),
      warmup_connections: int(500, 0),
      max_handshakes_in_flight: int(0),
      handshake_wait_budget: dur('2s'),
      fd_reserve: int(64),
    })
    .prefault({}),
  log: z
    .object({ level: z.enum(['none', 'trace', 'debug', 'info', 'warn', 'error']).default('info'), file: str() })
    .prefault({}),
  engine: z.object({ type: z.enum(['memory', 'redis']).default('memory'), redis: redisEngine.prefault({}) }).prefault({}),
  broker: z
    .object({
      enabled: bool(false),
      type: z.enum(['memory', 'redis', 'nats', 'redisnats']).default('memory'),
      redis: redisEngine.omit({ presence_ttl: true, presence_hash_field_ttl: true, presence_user_mapping: true }).prefault({}),
      nats: natsBroker.prefault({}),
    })
    .prefault({}),
  presence_manager: z
    .object({
      enabled: bool(false),
      type: z.enum(['memory', 'redis']).default('memory'),
      redis: redisEngine.omit({ history_use_lists: true }).prefault({}),
    })
    .prefault({}),
  client: client.prefault({}),
  channel: channel.prefault({}),
  rpc: z
    .object({
      ping: z.object({ enabled: bool(false), method: str('ping') }).prefault({}),
      proxy: proxy.prefault({}),
      without_namespace: z.object(rpcOptionsShape).prefault({}),
      namespaces: z.array(z.object({ name: z.string(), ...rpcOptionsShape })).default(() => []),
      namespace_boundary: str(':'),
    })
    .prefault({}),
  proxies: z.array(z.object({ name: z.string(), ...proxyShape })).default(() => []),
  http_api: z
    .object({
      disabled: bool(false),
      handler_prefix: str('/api'),
      key: str(),
      error_mode: z.enum(['', 'transport']).default(''),
      external: bool(false),
      insecure: bool(false),
      max_request_body_size: int(10 * 1024 * 1024, 1),
      max_batch_size: int(1_000_000, 1),
    })
    .prefault({}),
  uni_grpc: z
    .object({
      enabled: bool(false),
      address: str(),
      port: port(11000),
      max_receive_message_size: int(0),
      tls: tlsConfig.prefault({}),
    })
    .prefault({}),
  grpc_api: z
    .object({
      enabled: bool(false),
      error_mode: z.enum(['', 'transport']).default(''),
      address: str(),
      port: port(10000),
      key: str(),
      tls: tlsConfig.prefault({}),
      max_receive_message_size: int(0),
      reflection: bool(false),
    })
    .prefault({}),
  websocket: z
    .object({
      disabled: bool(false),
      handler_prefix: str('/connection/websocket'),
      compression: bool(false),
      compression_min_size: int(0),
      compression_level: compressionLevel(),
      write_timeout: dur('1000ms'),
      message_size_limit: int(65536, 1),
    })
    .prefault({}),
  http_stream: emulationTransport('/connection/http_stream'),
  sse: emulationTransport('/connection/sse'),
  emulation: z.object({ handler_prefix: str('/emulation'), max_request_body_size: int(65536, 1) }).prefault({}),
  uni_websocket: z
    .object({
      enabled: bool(false),
      handler_prefix: str('/connection/uni_websocket'),
      compression: bool(false),
      compression_min_size: int(0),
      compression_level: compressionLevel(),
      message_size_limit: int(65536, 1),
      join_push_messages: bool(false),
      disable_disconnect_push: bool(false),
      disable_closing_handshake: bool(false),
    })
    .prefault({}),
  uni_sse: uniHttpTransport('/connection/uni_sse'),
  uni_http_stream: uniHttpTransport('/connection/uni_http_stream'),
  health: z
    .object({ enabled: bool(false), handler_prefix: str('/health'), ready_handler_prefix: str('/ready') })
    .prefault({}),
  prometheus: z
    .object({ enabled: bool(false), handler_prefix: str('/metrics'), recovered_publications_histogram: bool(false) })
    .prefault({}),
  admin: z
    .object({
      enabled: bool(false),
      handler_prefix: str(),
      password: str(),
      secret: str(),
      insecure: bool(false),
      external: bool(false),
      token_ttl: dur('24h'),
    })
    .prefault({}),
  shutdown: z
    .object({ timeout: dur('30s'), drain_duration: dur('10s'), pre_drain_delay: dur('0s') })
    .prefault({}),
  node: z
    .object({
      name: str(),
      info_metrics_aggregate_interval: dur('60s'),
      // A count or 'auto'; numeric strings (flags, env) are counts.
      workers: z
        .preprocess(
          (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
          z.union([z.literal('auto'), z.number().int().min(1).max(1024)]),
        )
        .default(1),
      workers_scheduling: z.enum(['rr', 'none']).default('none'),
      // Descriptors of the main socket per worker under `none` (src/cluster/main-socket.ts, docs/workers.md).
      listen_copies: z.number().int().min(1).max(64).default(8),
      // Node/V8 flags the primary adds to each worker's command line (src/cluster/worker-args.ts); empty by
      // default: no flag measured cheaper on a fresh worker's first connect burst (docs/workers.md).
      worker_node_args: z
        .array(z.string().regex(/^--?[A-Za-z0-9][\w-]*(=\S*)?$/, 'expected a node or V8 flag: --name or --name=value'))
        .default(() => [...WORKER_NODE_ARGS]),
    })
    .prefault({}),
  pid_file: str(),
  // Centrifugo's gate for unreleased features; Gyre's only one is `broker.type: redisnats` (validate.ts).
  enable_unreleased_features: bool(false),
  // Gyre sends no usage statistics: `disabled: true` is what it does anyway, `false` (the default) changes nothing.
  usage_stats: z.object({ disabled: bool(false) }).prefault({}),
  // The store of map subscriptions; only the in-memory one is built (validate-map.ts refuses the others).
  map_broker: z.object({ type: z.enum(['memory', 'redis', 'postgres']).default('memory') }).prefault({}),
  shared_poll: z
    .object({
      hmac_secret_key: str(),
      hmac_previous_secret_key: str(),
      hmac_previous_secret_key_valid_until: unixSeconds(),
      concurrency_limit: int(0),
    })
    .prefault({}),
  consumers: z.array(consumer).default(() => []),
});

export type ParsedConfig = z.output<typeof configSchema>;

// Drift guard: the parsed output and GyreConfig must stay assignable both ways (a compile error otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Same<ParsedConfig, Required<GyreConfig>> = true;
void schemaMatchesTypes;
