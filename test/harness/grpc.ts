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
    creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const Ctor = service('api.proto', ['centrifugal', 'centrifugo', 'api'], 'CentrifugoApi');
    this.client = new Ctor(address, creds, opts);
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

/** An open uni_grpc stream: every Push received (decoded, absent fields left out) and how the stream ended. */
export interface UniStream {
  pushes: Msg[];
  /** Resolves with the final status (OK when the server ended the stream). */
  ended: Promise<grpc.StatusObject>;
  /** Resolves with the n-th push (1-based) once it has arrived (rejects after 10 s). */
  push(n: number): Promise<Msg>;
  cancel(): void;
}

/** Calls CentrifugoUniStream.Consume(req) (unistream.proto) on `address`. */
export function consumeUni(
  address: string,
  req: Msg,
  opts: grpc.ClientOptions = {},
  creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): { stream: UniStream; client: grpc.Client } {
  const Ctor = service('unistream.proto', ['centrifugal', 'centrifugo', 'unistream'], 'CentrifugoUniStream');
  const client = new Ctor(address, creds, opts);
  const call = (client as unknown as { Consume(r: Msg): grpc.ClientReadableStream<Msg> }).Consume(req);
  const pushes: Msg[] = [];
  const waiters: (() => void)[] = [];
  call.on('data', (m: Msg) => {
    pushes.push(m);
    for (const w of waiters.splice(0)) w();
  });
  call.on('error', () => {
    /* the status is reported through `ended` */
  });
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  const push = (n: number): Promise<Msg> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no push #${n} within 10 s (got ${JSON.stringify(pushes)})`)), 10_000);
      const check = (): void => {
        const m = pushes[n - 1];
        if (m !== undefined) {
          clearTimeout(timer);
          resolve(m);
        } else waiters.push(check);
      };
      check();
    });
  return { stream: { pushes, ended, push, cancel: () => call.cancel() }, client };
}

/**
 * A decoded message with bytes as hex and the leaves `replace` names rewritten (per key: the new value, given the
 * old), so that two servers' messages compare with deepEqual.
 */
export function comparable(v: unknown, replace: Readonly<Record<string, (old: unknown) => unknown>>, key = ''): unknown {
  if (Buffer.isBuffer(v)) return `bytes:${v.toString('hex')}`;
  if (Array.isArray(v)) return v.map((x) => comparable(x, replace, key));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = comparable(x, replace, k);
    return out;
  }
  const r = replace[key];
  return r !== undefined ? r(v) : v;
}

export { grpc };
