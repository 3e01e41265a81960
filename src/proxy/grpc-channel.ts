// How Gyre dials a GRPC proxy (docs/proxy.md), shared by the unary proxies (grpc.ts) and the subscribe stream
// proxy (stream.ts): the target from the endpoint, plaintext or TLS from `grpc.tls` (as Centrifugo's TLSConfig,
// config/pem.ts), gzip with `grpc.compression`, and the call metadata (static metadata, forwarded client
// headers, the credentials pair).
import { Client, Metadata, credentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { ProxyConfig } from '../config/types.js';
import { clientTls } from '../config/pem.js';
import { forwardedHeaders } from './headers.js';
import type { CallContext } from './types.js';

export const PROXY_PACKAGE = 'centrifugal.centrifugo.proxy';

/** Endpoint forms Centrifugo accepts: `grpc://host:port` or `host:port`. */
function grpcTarget(endpoint: string): string {
  return endpoint.startsWith('grpc://') ? new URL(endpoint).host : endpoint;
}

/** Plaintext, or TLS from an enabled `grpc.tls` block at `path` (ConfigError on unreadable PEM). */
function channelCredentials(config: ProxyConfig, path: string, options: Record<string, string | number>): ChannelCredentials {
  const tls = clientTls(config.grpc.tls, `${path}.grpc.tls`);
  if (tls === undefined) return credentials.createInsecure();
  if (tls.servername !== undefined) options['grpc.ssl_target_name_override'] = tls.servername;
  const pem = (v: unknown): Buffer | null => (Buffer.isBuffer(v) ? v : null);
  const skip = tls.rejectUnauthorized === false;
  return credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert), {
    rejectUnauthorized: !skip,
    ...(skip ? { checkServerIdentity: () => undefined } : {}),
  });
}

/** A grpc-js client for the proxy at `path` (one channel, reused by every call). */
export function proxyGrpcClient(config: ProxyConfig, path: string): Client {
  const options: Record<string, string | number> = {};
  if (config.grpc.compression) options['grpc.default_compression_algorithm'] = 2; // gzip
  const creds = channelCredentials(config, path, options);
  return new Client(grpcTarget(config.endpoint), creds, options);
}

/** What every GRPC proxy holds: its config, its channel (one per proxy) and the traits the core reads. */
export abstract class GrpcProxyBase {
  readonly binary: boolean;
  readonly includeMeta: boolean;
  protected readonly client: Client;

  /** `path` names the config block (for errors about its TLS files). */
  constructor(
    readonly name: string,
    protected readonly config: ProxyConfig,
    path: string,
  ) {
    this.binary = config.binary_encoding;
    this.includeMeta = config.include_connection_meta;
    this.client = proxyGrpcClient(config, path);
  }

  get endpoint(): string {
    return this.config.endpoint;
  }

  close(): void {
    this.client.close();
  }
}

/** The metadata of one call: static metadata, forwarded client headers, then the credentials pair. */
export function callMetadata(config: ProxyConfig, ctx: CallContext): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(config.grpc.static_metadata)) md.set(k.toLowerCase(), v);
  for (const [k, v] of forwardedHeaders(config, ctx)) {
    if (k.startsWith(':') || k.endsWith('-bin')) continue;
    md.remove(k);
    for (const one of Array.isArray(v) ? v : [v]) md.add(k, one);
  }
  if (config.grpc.credentials_key !== '') md.set(config.grpc.credentials_key.toLowerCase(), config.grpc.credentials_value);
  return md;
}
