// engine.redis → one connection spec per shard, read the way Centrifugo reads it: cluster_address wins over
// sentinel_address, which wins over address; each entry is one shard; several addresses of one Cluster or
// Sentinel set are comma-separated inside the entry. An address is `host:port` or a URL (redis://, rediss://,
// redis+sentinel://, rediss+sentinel://, redis+cluster://, tcp://, unix://) with user, password, /db and the
// query keys addr, sentinel_master_name, sentinel_user, sentinel_password, connect_timeout, io_timeout,
// tls_enabled. Also builds the ioredis options of each connection kind.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions as IoRedisOptions } from 'ioredis';

/** ioredis options without the reply-mapping generic (its constructor types reject it as undefined). */
export type RedisOptions = Omit<IoRedisOptions, 'replyMapping'>;
import type { RedisEngineConfig, TlsConfig } from '../../config/types.js';
import { durationFromConfig } from '../../config/duration.js';

export type ShardMode = 'standalone' | 'sentinel' | 'cluster';

export interface HostPort {
  host: string;
  port: number;
}

export interface ShardSpec {
  mode: ShardMode;
  /** Standalone: one address; Sentinel: the Sentinels; Cluster: the seed nodes. */
  addresses: HostPort[];
  /** Unix socket path (standalone only). */
  path?: string;
  db: number;
  username: string;
  password: string;
  clientName: string;
  tls: ConnectionOptions | undefined;
  connectTimeoutMs: number;
  ioTimeoutMs: number;
  sentinel?: {
    masterName: string;
    username: string;
    password: string;
    clientName: string;
    tls: ConnectionOptions | undefined;
  };
  /** For logs and metric labels. */
  label: string;
}

export class RedisConfigError extends Error {
  override readonly name = 'RedisConfigError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

function hostPort(path: string, s: string): HostPort {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s.trim());
  const port = m !== null ? Number(m[2]) : NaN;
  if (m === null || m[1] === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RedisConfigError(path, `malformed address ${JSON.stringify(s)} (want host:port)`);
  }
  return { host: m[1]!, port };
}

export function tlsOptions(path: string, t: TlsConfig): ConnectionOptions | undefined {
  if (!t.enabled) return undefined;
  const o: ConnectionOptions = { minVersion: 'TLSv1.2' };
  // Like Centrifugo: raw PEM, base64-encoded PEM, or a path to a PEM file.
  const pem = (v: string, key: string): string => {
    if (v.includes('-----BEGIN')) return v;
    const decoded = /^[A-Za-z0-9+/=\s]+$/.test(v) ? Buffer.from(v, 'base64').toString('utf8') : '';
    if (decoded.includes('-----BEGIN')) return decoded;
    try {
      return readFileSync(v, 'utf8');
    } catch {
      throw new RedisConfigError(`${path}.${key}`, 'neither PEM, base64 PEM nor a readable file');
    }
  };
  if (t.server_ca_pem !== '') o.ca = pem(t.server_ca_pem, 'server_ca_pem');
  if (t.cert_pem !== '') o.cert = pem(t.cert_pem, 'cert_pem');
  if (t.key_pem !== '') o.key = pem(t.key_pem, 'key_pem');
  if (t.server_name !== '') o.servername = t.server_name;
  if (t.insecure_skip_verify) o.rejectUnauthorized = false;
  return o;
}

function base(cfg: RedisEngineConfig, at: string, mode: ShardMode, addresses: HostPort[], label: string): ShardSpec {
  return {
    mode,
    addresses,
    db: cfg.db,
    username: cfg.user,
    password: cfg.password,
    clientName: cfg.client_name,
    tls: tlsOptions(`${at}.tls`, cfg.tls),
    connectTimeoutMs: cfg.connect_timeout,
    ioTimeoutMs: cfg.io_timeout,
    label,
  };
}

function sentinelOf(cfg: RedisEngineConfig, at: string, masterName: string): NonNullable<ShardSpec['sentinel']> {
  return {
    masterName,
    username: cfg.sentinel_user,
    password: cfg.sentinel_password,
    clientName: cfg.sentinel_client_name,
    tls: tlsOptions(`${at}.sentinel_tls`, cfg.sentinel_tls),
  };
}

function queryDuration(path: string, key: string, v: string): number {
  const r = durationFromConfig(v);
  if (!r.ok) throw new RedisConfigError(path, `invalid ${key} ${JSON.stringify(v)}`);
  return r.ms;
}

function fromUrl(path: string, address: string, cfg: RedisEngineConfig, at: string): ShardSpec {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new RedisConfigError(path, `malformed URL ${JSON.stringify(address)}`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  const q = u.searchParams;
  const masterName = q.get('sentinel_master_name') ?? '';
  const cluster = scheme === 'redis+cluster';
  const sentinel = scheme === 'redis+sentinel' || scheme === 'rediss+sentinel' || masterName !== '';
  if (sentinel && masterName === '') throw new RedisConfigError(path, 'sentinel_master_name must be set for Redis Sentinel');
  const mode: ShardMode = cluster ? 'cluster' : sentinel ? 'sentinel' : 'standalone';
  if (scheme === 'unix') {
    const spec = base(cfg, at, 'standalone', [], address);
    spec.path = u.pathname;
    return spec;
  }
  if (!['tcp', 'redis', 'rediss', 'redis+sentinel', 'rediss+sentinel', 'redis+cluster'].includes(scheme)) {
    throw new RedisConfigError(path, `unsupported scheme ${JSON.stringify(scheme)}`);
  }
  const addrs = [hostPort(path, u.host), ...q.getAll('addr').map((a) => hostPort(path, a))];
  const spec = base(cfg, at, mode, addrs, addrs.map((a) => `${a.host}:${a.port}`).join(','));
  if (u.pathname !== '' && u.pathname !== '/') {
    const db = Number(u.pathname.slice(1));
    if (!Number.isInteger(db) || db < 0) throw new RedisConfigError(path, `DB ${JSON.stringify(u.pathname)} is not a number`);
    spec.db = db;
  }
  if (u.username !== '') spec.username = decodeURIComponent(u.username);
  if (u.password !== '') spec.password = decodeURIComponent(u.password);
  const ct = q.get('connect_timeout');
  if (ct !== null) spec.connectTimeoutMs = queryDuration(path, 'connect_timeout', ct);
  const io = q.get('io_timeout');
  if (io !== null) spec.ioTimeoutMs = queryDuration(path, 'io_timeout', io);
  if (scheme.startsWith('rediss') || q.get('tls_enabled') === 'true') spec.tls ??= { minVersion: 'TLSv1.2' };
  if (sentinel) {
    spec.sentinel = sentinelOf(cfg, at, masterName);
    const su = q.get('sentinel_user');
    if (su !== null) spec.sentinel.username = su;
    const sp = q.get('sentinel_password');
    if (sp !== null) spec.sentinel.password = sp;
    if (scheme === 'rediss+sentinel' || q.get('sentinel_tls_enabled') === 'true') spec.sentinel.tls ??= { minVersion: 'TLSv1.2' };
  }
  return spec;
}

const URL_SCHEME = /^(redis|rediss|redis\+sentinel|rediss\+sentinel|redis\+cluster|unix|tcp):\/\//;

/**
 * One spec per shard. Throws RedisConfigError naming the key (under `at`, the config section the slice came from)
 * when an address is malformed.
 */
export function shardSpecs(cfg: RedisEngineConfig, at = 'engine.redis'): ShardSpec[] {
  if (cfg.cluster_address.length > 0) {
    return cfg.cluster_address.map((entry, i) => {
      const path = `${at}.cluster_address[${i}]`;
      const addrs = entry.split(',').map((a) => hostPort(path, a));
      return base(cfg, at, 'cluster', addrs, entry);
    });
  }
  if (cfg.sentinel_address.length > 0) {
    if (cfg.sentinel_master_name === '') {
      throw new RedisConfigError(`${at}.sentinel_master_name`, 'master name must be set when using Redis Sentinel');
    }
    return cfg.sentinel_address.map((entry, i) => {
      const path = `${at}.sentinel_address[${i}]`;
      const addrs = entry.split(',').map((a) => hostPort(path, a));
      const spec = base(cfg, at, 'sentinel', addrs, entry);
      spec.sentinel = sentinelOf(cfg, at, cfg.sentinel_master_name);
      return spec;
    });
  }
  const list = cfg.address.length > 0 ? cfg.address : ['127.0.0.1:6379'];
  return list.map((entry, i) => {
    const path = `${at}.address[${i}]`;
    if (URL_SCHEME.test(entry)) return fromUrl(path, entry, cfg, at);
    const hp = hostPort(path, entry);
    return base(cfg, at, 'standalone', [hp], entry);
  });
}

/** Options shared by every plain (non-Cluster) ioredis connection of a shard. */
export function nodeOptions(spec: ShardSpec): RedisOptions {
  const o: RedisOptions = {
    connectTimeout: spec.connectTimeoutMs,
    db: spec.db,
    lazyConnect: true,
    enableAutoPipelining: true,
    // A command either runs once or fails: never replayed after a reconnect (a replayed publish could run twice).
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    noDelay: true,
  };
  if (spec.username !== '') o.username = spec.username;
  if (spec.password !== '') o.password = spec.password;
  if (spec.clientName !== '') o.connectionName = spec.clientName;
  if (spec.tls !== undefined) o.tls = spec.tls;
  return o;
}

/** Connection target of a standalone or Sentinel shard (host/port or socket path, or the Sentinel set). */
export function targetOptions(spec: ShardSpec): RedisOptions {
  if (spec.mode === 'sentinel' && spec.sentinel !== undefined) {
    const s = spec.sentinel;
    const o: RedisOptions = {
      sentinels: spec.addresses.map((a) => ({ host: a.host, port: a.port })),
      name: s.masterName,
      role: 'master',
      failoverDetector: true,
      sentinelMaxConnections: 10,
    };
    if (s.username !== '') o.sentinelUsername = s.username;
    if (s.password !== '') o.sentinelPassword = s.password;
    if (s.tls !== undefined) {
      o.sentinelTLS = s.tls;
      o.enableTLSForSentinelMode = true;
    }
    return o;
  }
  if (spec.path !== undefined) return { path: spec.path };
  const a = spec.addresses[0]!;
  return { host: a.host, port: a.port };
}
