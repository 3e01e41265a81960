// A proxy over GRPC (docs/proxy.md): unary calls of Centrifugo's CentrifugoProxy service (proxy.proto, encoded
// with protobufjs) on one grpc-js channel per proxy (grpc-channel.ts: plaintext or TLS, call metadata), each with
// a deadline of the proxy's timeout.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { decodeResponse } from './decode.js';
import { GrpcProxyBase, PROXY_PACKAGE as PACKAGE, callMetadata } from './grpc-channel.js';
import { callTimeout } from './headers.js';
import {
  ProxyCallError,
  type CallContext,
  type ProxyClient,
  type ProxyKind,
  type ProxyMessages,
  type ProxyResponse,
} from './types.js';

const METHODS: { readonly [K in ProxyKind]: { rpc: string; req: string; res: string } } = {
  connect: { rpc: 'Connect', req: 'ConnectRequest', res: 'ConnectResponse' },
  refresh: { rpc: 'Refresh', req: 'RefreshRequest', res: 'RefreshResponse' },
  subscribe: { rpc: 'Subscribe', req: 'SubscribeRequest', res: 'SubscribeResponse' },
  publish: { rpc: 'Publish', req: 'PublishRequest', res: 'PublishResponse' },
  sub_refresh: { rpc: 'SubRefresh', req: 'SubRefreshRequest', res: 'SubRefreshResponse' },
  rpc: { rpc: 'RPC', req: 'RPCRequest', res: 'RPCResponse' },
  shared_poll_refresh: { rpc: 'SharedPollRefresh', req: 'SharedPollRefreshRequest', res: 'SharedPollRefreshResponse' },
  map_publish: { rpc: 'MapPublish', req: 'MapPublishRequest', res: 'MapPublishResponse' },
  map_remove: { rpc: 'MapRemove', req: 'MapRemoveRequest', res: 'MapRemoveResponse' },
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

/** A message type of proxy.proto ("SubscribeRequest"), loaded once. */
export function proxyType(name: string): protobuf.Type {
  root ??= new protobuf.Root().loadSync(protoPath(), { keepCase: true });
  return root.lookupType(`${PACKAGE}.${name}`);
}

function types(kind: ProxyKind): { req: protobuf.Type; res: protobuf.Type } {
  const m = METHODS[kind];
  return { req: proxyType(m.req), res: proxyType(m.res) };
}

export class GrpcProxyClient extends GrpcProxyBase implements ProxyClient {
  readonly protocol = 'grpc';

  call<K extends ProxyKind>(kind: K, req: ProxyMessages[K]['req'], ctx: CallContext): Promise<ProxyResponse<K>> {
    const t = types(kind);
    const md = callMetadata(this.config, ctx);
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
}
