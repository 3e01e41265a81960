// A grpc-js server on its own port, as the GRPC API and uni_grpc each have one (docs/grpc.md): listen address,
// Centrifugo's TLS block (PEM values read like the HTTP server's, client_ca_pem ⇒ mutual TLS), the largest
// request message, start and an idempotent close.
import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { TlsConfig } from '../config/types.js';
import { ConfigError } from '../config/errors.js';
import { loadPem } from '../config/pem.js';

export interface GrpcListenConfig {
  address: string;
  port: number;
  tls: TlsConfig;
  max_receive_message_size: number;
}

/** Server credentials for a TLS block at `path` ("grpc_api.tls"); insecure when it is disabled. */
export function grpcCredentials(tls: TlsConfig, path: string): ServerCredentials {
  if (!tls.enabled) return ServerCredentials.createInsecure();
  if (tls.cert_pem === '' || tls.key_pem === '') {
    throw new ConfigError('invalid_value', `${path}.${tls.cert_pem === '' ? 'cert_pem' : 'key_pem'}`, 'required when TLS is enabled');
  }
  const pair = { cert_chain: loadPem(tls.cert_pem, `${path}.cert_pem`), private_key: loadPem(tls.key_pem, `${path}.key_pem`) };
  const ca = tls.client_ca_pem !== '' ? loadPem(tls.client_ca_pem, `${path}.client_ca_pem`) : null;
  try {
    return ServerCredentials.createSsl(ca, [pair], ca !== null);
  } catch (err) {
    throw new ConfigError('invalid_value', `${path}.cert_pem`, `unusable certificate or key: ${(err as Error).message}`);
  }
}

/** "host:port" for grpc-js; "" listens on every interface, as Go's net.Listen(":port") does. */
function target(address: string, port: number): string {
  const host = address === '' ? '0.0.0.0' : address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  return `${host}:${port}`;
}

export class GrpcServer {
  readonly server: Server;
  private closing: Promise<void> | undefined;

  /** `creds`: from grpcCredentials(cfg.tls, …), made first so that bad TLS material fails before anything starts. */
  constructor(
    private readonly cfg: GrpcListenConfig,
    private readonly creds: ServerCredentials,
    options: ChannelOptions = {},
  ) {
    const opts: ChannelOptions = { ...options };
    if (cfg.max_receive_message_size > 0) opts['grpc.max_receive_message_length'] = cfg.max_receive_message_size;
    this.server = new Server(opts);
  }

  /** Binds the port; resolves with the bound port number. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(target(this.cfg.address, this.cfg.port), this.creds, (err, port) => {
        if (err !== null) reject(err);
        else resolve(port);
      });
    });
  }

  /** Stops accepting; calls in flight get `graceMs` to finish, then every connection is closed. Idempotent. */
  close(graceMs = 1000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.closing;
  }
}
