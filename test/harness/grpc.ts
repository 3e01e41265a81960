// GRPC clients for tests, built the way an application builds them: grpc-js with stubs loaded from the .proto files
// in src/grpc (proto-loader), plus a raw client that sends arbitrary bytes to a method (bad-input tests).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_DIR = fileURLToPath(new URL('../../src/grpc/', import.meta.url));

const LOAD_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true };

function service(file: string, pkg: string[], name: string): grpc.ServiceClientConstructor {
  const def = grpc.loadPackageDefinition(protoLoader.loadSync(`${PROTO_DIR}${file}`, LOAD_OPTIONS));
  let node: unknown = def;
  for (const p of pkg) node = (node as Record<string, unknown>)[p];
  return (node as Record<string, grpc.ServiceClientConstructor>)[name] as grpc.ServiceClientConstructor;
}

export type Msg = Record<string, unknown>;

export interface CallResult {
  /** The decoded response (absent fields left out), or undefined on a GRPC error. */
  response?: Msg;
  error?: grpc.ServiceError;
}

/** A CentrifugoApi client (api.proto). `key` is sent as `authorization: apikey <key>` unless null. */
export class GrpcApiClient {
  private readonly client: grpc.Client;

  constructor(
    readonly address: string,
    private readonly key: string | null,
    opts: grpc.ClientOptions = {},
  ) {
    const Ctor = service('api.proto', ['centrifugal', 'centrifugo', 'api'], 'CentrifugoApi');
    this.client = new Ctor(address, grpc.credentials.createInsecure(), opts);
  }

  /** Calls `method` (the GRPC name, e.g. "Publish"); resolves either way, with the response or the error. */
  call(method: string, req: Msg, opts: { key?: string | null; metadata?: Record<string, string> } = {}): Promise<CallResult> {
    const md = new grpc.Metadata();
    const key = opts.key === undefined ? this.key : opts.key;
    if (key !== null) md.set('authorization', `apikey ${key}`);
    for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
    const fn = (this.client as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new Error(`no method ${method}`);
    return new Promise((resolve) => {
      (fn as (r: Msg, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Msg) => void) => void).call(
        this.client,
        req,
        md,
        { deadline: Date.now() + 10_000 },
        (error, response) => resolve(error !== null ? { error } : response !== undefined ? { response } : {}),
      );
    });
  }

  /** The result of a call that must succeed without an API error in its response. */
  async ok(method: string, req: Msg): Promise<Msg> {
    const r = await this.call(method, req);
    if (r.error !== undefined) throw new Error(`${method}: GRPC error ${r.error.code} ${r.error.details}`);
    const resp = r.response ?? {};
    if (resp['error'] !== undefined) throw new Error(`${method}: API error ${JSON.stringify(resp['error'])}`);
    return (resp['result'] as Msg | undefined) ?? {};
  }

  close(): void {
    this.client.close();
  }
}

/** Sends `body` as the request message of `path` without any encoding; resolves with raw response or error. */
export function rawUnary(
  address: string,
  path: string,
  body: Buffer,
  metadata: Record<string, string> = {},
): Promise<{ response?: Buffer; error?: grpc.ServiceError }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      md,
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        client.close();
        resolve(error !== null ? { error } : { response: response ?? Buffer.alloc(0) });
      },
    );
  });
}

export { grpc };
