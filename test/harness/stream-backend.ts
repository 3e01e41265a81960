// A real application backend for subscribe stream proxies: a grpc-js server with CentrifugoProxy's
// SubscribeUnidirectional and SubscribeBidirectional (src/proxy/proxy.proto, loaded with @grpc/proto-loader,
// independent of Gyre's protobufjs encoding). The test decides the first message per stream and then drives each
// open stream: send publications, end it cleanly or with an error. Client publications on bidirectional streams
// and cancellations by the server are recorded. Payload members are JSON values (JSON text in bytes fields).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './gyre.js';

type Obj = Record<string, unknown>;

/** How the backend opens a stream. */
export type First =
  | { response: Obj } // a SubscribeResponse ({ result } / { error } / { disconnect })
  | { publicationFirst: true } // a first message without a subscribe response
  | { silent: true }; // never sends a first message

export interface OpenedStream {
  readonly bidirectional: boolean;
  /** The SubscribeRequest, payload members parsed. */
  readonly request: Obj;
  /** Metadata of the call (lower-case keys, first value). */
  readonly metadata: Record<string, string>;
  /** Client publications received on a bidirectional stream (data parsed). */
  readonly published: unknown[];
  /** True once Gyre cancelled the call. */
  cancelled: boolean;
  publish(data: unknown, tags?: Record<string, string>): void;
  /** Ends the stream with GRPC OK. */
  end(): void;
  /** Ends the stream with an error status. */
  fail(): void;
}

export interface StreamBackend {
  readonly endpoint: string;
  readonly streams: OpenedStream[];
  first: (request: Obj) => First;
  close(): Promise<void>;
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

function parsed(req: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(req)) {
    if ((k === 'data' || k === 'meta') && Buffer.isBuffer(v)) {
      if (v.length > 0) out[k] = JSON.parse(v.toString()) as unknown;
    } else if (v !== '') out[k] = v;
  }
  return out;
}

/** Payload members of a SubscribeResponse as JSON text bytes. */
function wireResponse(r: Obj): Obj {
  const result = r['result'];
  if (result === undefined || result === null || typeof result !== 'object') return r;
  const out: Obj = { ...(result as Obj) };
  for (const k of ['info', 'data']) if (k in out) out[k] = json(out[k]);
  return { ...r, result: out };
}

type AnyStream = grpc.ServerWritableStream<Obj, Obj> | grpc.ServerDuplexStream<Obj, Obj>;

export async function startStreamBackend(first: (request: Obj) => First = () => ({ response: { result: {} } })): Promise<StreamBackend> {
  const def = protoLoader.loadSync(`${REPO_ROOT}src/proxy/proxy.proto`, { keepCase: true, longs: Number, defaults: false });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    centrifugal: { centrifugo: { proxy: { CentrifugoProxy: { service: grpc.ServiceDefinition } } } };
  };
  const streams: OpenedStream[] = [];
  const b: StreamBackend = { endpoint: '', streams, first, close: () => Promise.resolve() };

  const begin = (call: AnyStream, request: Obj, bidirectional: boolean): OpenedStream => {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = String(v);
    let done = false;
    const s: OpenedStream = {
      bidirectional,
      request: parsed(request),
      metadata,
      published: [],
      cancelled: false,
      publish: (data, tags) => {
        if (!done) call.write({ publication: { data: json(data), ...(tags !== undefined ? { tags } : {}) } });
      },
      end: () => {
        if (done) return;
        done = true;
        call.end();
      },
      fail: () => {
        if (done) return;
        done = true;
        call.emit('error', { code: grpc.status.INTERNAL, details: 'backend failed the stream' });
      },
    };
    call.on('cancelled', () => {
      s.cancelled = true;
      done = true;
    });
    streams.push(s);
    const f = b.first(s.request);
    if ('response' in f) call.write({ subscribe_response: wireResponse(f.response) });
    else if ('publicationFirst' in f) call.write({ publication: { data: json('too early') } });
    return s;
  };

  const impl: grpc.UntypedServiceImplementation = {
    SubscribeUnidirectional: (call: grpc.ServerWritableStream<Obj, Obj>) => {
      begin(call, call.request, false);
    },
    SubscribeBidirectional: (call: grpc.ServerDuplexStream<Obj, Obj>) => {
      let s: OpenedStream | undefined;
      call.on('data', (msg: Obj) => {
        const sr = msg['subscribe_request'];
        if (s === undefined && sr !== undefined && sr !== null) {
          s = begin(call, sr as Obj, true);
          return;
        }
        const pub = msg['publication'] as Obj | undefined;
        const data = pub?.['data'];
        if (s !== undefined && Buffer.isBuffer(data)) s.published.push(JSON.parse(data.toString()) as unknown);
      });
      call.on('error', () => undefined);
    },
  };
  const server = new grpc.Server();
  server.addService(pkg.centrifugal.centrifugo.proxy.CentrifugoProxy.service, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return Object.assign(b, {
    endpoint: `127.0.0.1:${port}`,
    close: () => {
      server.forceShutdown();
      return Promise.resolve();
    },
  });
}
