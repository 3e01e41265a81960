// The subscribe stream proxy over GRPC (docs/proxy.md), Centrifugo's SubscribeUnidirectional and
// SubscribeBidirectional methods: the backend's first message carries the subscribe answer, every later one a
// publication for that one subscriber. A bidirectional stream also carries the client's publications to the
// backend. The first message must come within the proxy's timeout; the stream then lives until either side ends
// it. Metrics as Centrifugo's (type "subscribe_stream"): in flight and duration until the first message, and an
// error when no usable first message came.
import { status as GrpcStatus, type ClientDuplexStream, type ClientReadableStream, type StatusObject } from '@grpc/grpc-js';
import type { ProxyConfig } from '../config/types.js';
import { proxyMetrics } from '../metrics/proxy.js';
import { decodeResponse } from './decode.js';
import { metered, type ProxyLabels } from './metered.js';
import { GrpcProxyBase, PROXY_PACKAGE, callMetadata } from './grpc-channel.js';
import { proxyType } from './grpc.js';
import { callTimeout } from './headers.js';
import {
  ProxyCallError,
  type CallContext,
  type OpenStream,
  type ProxyResponse,
  type StreamHandlers,
  type SubscribeProxyRequest,
  type SubscribeStreamProxy,
} from './types.js';

type Obj = Record<string, unknown>;
type Stream = ClientReadableStream<Obj> | ClientDuplexStream<Obj, Obj>;

const EMPTY = new Uint8Array(0);

function encoder(name: string): (value: Obj) => Buffer {
  const t = proxyType(name);
  return (value) => Buffer.from(t.encode(t.fromObject(value)).finish());
}

function decoder(name: string): (bytes: Buffer) => Obj {
  const t = proxyType(name);
  return (bytes) => t.toObject(t.decode(bytes), { longs: Number });
}

function callError(s: StatusObject): ProxyCallError {
  const reason = s.code === GrpcStatus.DEADLINE_EXCEEDED ? 'timeout' : s.code === GrpcStatus.UNAVAILABLE ? 'transport' : 'status';
  return new ProxyCallError(reason, `GRPC ${GrpcStatus[s.code] ?? s.code}: ${s.details}`);
}

function tagsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v as Obj)) if (typeof x === 'string') out[k] = x;
  return out;
}

export class GrpcStreamProxy extends GrpcProxyBase implements SubscribeStreamProxy {
  private readonly labels: ProxyLabels;

  constructor(name: string, config: ProxyConfig, path: string) {
    super(name, config, path);
    this.labels = { protocol: 'grpc', type: 'subscribe_stream', name };
    proxyMetrics.errors.inc(this.labels, 0);
    proxyMetrics.inflight.inc(this.labels, 0);
  }

  open(bidirectional: boolean, req: SubscribeProxyRequest, ctx: CallContext, handlers: StreamHandlers): Promise<OpenStream> {
    return metered(this.labels, () => this.start(bidirectional, req, ctx, handlers));
  }

  private start(bidirectional: boolean, req: SubscribeProxyRequest, ctx: CallContext, handlers: StreamHandlers): Promise<OpenStream> {
    const md = callMetadata(this.config, ctx);
    const decode = decoder('StreamSubscribeResponse');
    const service = `/${PROXY_PACKAGE}.CentrifugoProxy`;
    let call: Stream;
    let duplex: ClientDuplexStream<Obj, Obj> | undefined;
    if (bidirectional) {
      duplex = this.client.makeBidiStreamRequest(`${service}/SubscribeBidirectional`, encoder('StreamSubscribeRequest'), decode, md, {});
      duplex.write({ subscribe_request: req });
      call = duplex;
    } else {
      call = this.client.makeServerStreamRequest(`${service}/SubscribeUnidirectional`, encoder('SubscribeRequest'), decode, req as unknown as Obj, md, {});
    }
    const timeout = callTimeout(this.config);
    return new Promise((resolve, reject) => {
      let phase: 'first' | 'open' | 'done' = 'first';
      const fail = (err: ProxyCallError): void => {
        if (phase !== 'first') return;
        phase = 'done';
        clearTimeout(timer);
        call.cancel();
        reject(err);
      };
      const timer = setTimeout(() => fail(new ProxyCallError('timeout', `no first stream message within ${timeout}ms`)), timeout);
      const stream: OpenStream = {
        answer: {},
        publish: (data) => {
          if (phase !== 'open' || duplex === undefined) return false;
          duplex.write({ publication: { data } });
          return true;
        },
        cancel: () => {
          if (phase === 'done') return;
          phase = 'done';
          clearTimeout(timer);
          call.cancel();
        },
      };
      call.on('data', (msg: Obj) => {
        if (phase === 'first') {
          const sr = msg['subscribe_response'];
          if (sr === undefined || sr === null) {
            fail(new ProxyCallError('decode', 'no subscribe response in first message from stream proxy'));
            return;
          }
          let answer: ProxyResponse<'subscribe'>;
          try {
            answer = decodeResponse('subscribe', sr);
          } catch (e) {
            fail(e instanceof ProxyCallError ? e : new ProxyCallError('decode', String(e)));
            return;
          }
          phase = 'open';
          clearTimeout(timer);
          resolve({ ...stream, answer });
          return;
        }
        if (phase !== 'open') return;
        const pub = msg['publication'];
        if (pub === undefined || pub === null || typeof pub !== 'object') return;
        const p = pub as Obj;
        const data = p['data'] instanceof Uint8Array ? p['data'] : EMPTY;
        handlers.onPublication({ data, tags: tagsOf(p['tags']) });
      });
      // A non-OK status is also emitted as 'error'; 'status' is read instead, once, for every end.
      call.on('error', () => undefined);
      call.on('status', (s: StatusObject) => {
        if (phase === 'first') {
          fail(s.code === GrpcStatus.OK ? new ProxyCallError('decode', 'stream ended before its first message') : callError(s));
          return;
        }
        if (phase !== 'open') return;
        phase = 'done';
        handlers.onEnd(s.code === GrpcStatus.OK ? 'eof' : 'error');
      });
    });
  }
}
