// A proxy over GRPC (docs/proxy.md): unary calls of Centrifugo's CentrifugoProxy service (proxy.proto, encoded
// with protobufjs) on one grpc-js channel per proxy, each with a deadline of the proxy's timeout. Static metadata,
// the credentials pair and forwarded client headers travel as call metadata.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Metadata, credentials, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { ProxyConfig } from '../config/types.js';
import { decodeResponse } from './decode.js';
import { callTimeout, forwardedHeaders } from './headers.js';
import {
  ProxyCallError,
  type CallContext,
  type ProxyClient,
  type ProxyKind,
  type ProxyMessages,
  type ProxyResponse,
} from './types.js';

const PACKAGE = 'centrifugal.centrifugo.proxy';

const METHODS: { readonly [K in ProxyKind]: { rpc: string; req: string; res: string } } = {
  connect: { rpc: 'Connect', req: 'ConnectRequest', res: 'ConnectResponse' },
  refresh: { rpc: 'Refresh', req: 'RefreshRequest', res: 'RefreshResponse' },
  subscribe: { rpc: 'Subscribe', req: 'SubscribeRequest', res: 'SubscribeResponse' },
  publish: { rpc: 'Publish', req: 'PublishRequest', res: 'PublishResponse' },
  sub_refresh: { rpc: 'SubRefresh', req: 'SubRefreshRequest', res: 'SubRefreshResponse' },
  rpc: { rpc: 'RPC', req: 'RPCRequest', res: 'RPCResponse' },
};

/** proxy.proto next to this file (sources), or in src/proxy when running the compiled build from dist/. */
export function protoPath(): string {
  for (const rel of ['./proxy.proto', '../../../src/proxy/proxy.proto']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('proxy.proto not found');
}

let root: protobuf.Root | undefined;

function types(kind: ProxyKind): { req: protobuf.Type; res: protobuf.Type } {
  root ??= new protobuf.Root().loadSync(protoPath(), { keepCase: true });
  const m = METHODS[kind];
  return { req: root.lookupType(`${PACKAGE}.${m.req}`), res: root.lookupType(`${PACKAGE}.${m.res}`) };
}

/** Endpoint forms Centrifugo accepts: `grpc://host:port` or `host:port`. */
function grpcTarget(endpoint: string): string {
  return endpoint.startsWith('grpc://') ? new URL(endpoint).host : endpoint;
}

export class GrpcProxyClient implements ProxyClient {
  readonly protocol = 'grpc';
  readonly binary: boolean;
  readonly includeMeta: boolean;
  private readonly client: Client;

  constructor(
    readonly name: string,
    private readonly config: ProxyConfig,
  ) {
    this.binary = config.binary_encoding;
    this.includeMeta = config.include_connection_meta;
    const options: Record<string, number> = {};
    if (config.grpc.compression) options['grpc.default_compression_algorithm'] = 2; // gzip
    this.client = new Client(grpcTarget(config.endpoint), credentials.createInsecure(), options);
  }

  get endpoint(): string {
    return this.config.endpoint;
  }

  call<K extends ProxyKind>(kind: K, req: ProxyMessages[K]['req'], ctx: CallContext): Promise<ProxyResponse<K>> {
    const t = types(kind);
    const md = new Metadata();
    for (const [k, v] of Object.entries(this.config.grpc.static_metadata)) md.set(k.toLowerCase(), v);
    for (const [k, v] of forwardedHeaders(this.config, ctx)) {
      if (k.startsWith(':') || k.endsWith('-bin')) continue;
      md.remove(k);
      for (const one of Array.isArray(v) ? v : [v]) md.add(k, one);
    }
    if (this.config.grpc.credentials_key !== '') md.set(this.config.grpc.credentials_key.toLowerCase(), this.config.grpc.credentials_value);
    const timeout = callTimeout(this.config);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<object, unknown>(
        `/${PACKAGE}.CentrifugoProxy/${METHODS[kind].rpc}`,
        (value) => Buffer.from(t.req.encode(t.req.fromObject(value as Record<string, unknown>)).finish()),
        (bytes: Buffer) => t.res.toObject(t.res.decode(bytes), { longs: Number }),
        req,
        md,
        { deadline: Date.now() + timeout },
        (err: ServiceError | null, value?: unknown) => {
          if (err !== null) {
            const reason = err.code === GrpcStatus.DEADLINE_EXCEEDED ? 'timeout' : err.code === GrpcStatus.UNAVAILABLE ? 'transport' : 'status';
            reject(new ProxyCallError(reason, `GRPC ${GrpcStatus[err.code] ?? err.code}: ${err.details}`));
            return;
          }
          try {
            resolve(decodeResponse(kind, value ?? null));
          } catch (e) {
            reject(e instanceof ProxyCallError ? e : new ProxyCallError('decode', String(e)));
          }
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
