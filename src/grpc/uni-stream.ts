// The unidirectional GRPC transport (`uni_grpc.*`, docs/grpc.md): Centrifugo's service
// centrifugal.centrifugo.unistream.CentrifugoUniStream (unistream.proto) on its own port. A client calls
// Consume(ConnectRequest) and reads a stream of Push messages: the connect push first, then publications, joins,
// leaves, unsubscribes and the rest, and a disconnect push before the stream ends (status OK, as Centrifugo ends
// it). unistream's ConnectRequest and Push have the client protocol's field numbers, so the request is handed to the
// session as a protobuf connect command, bytes unchanged, and every Push the session writes becomes one GRPC
// message, unchanged too. Pings are empty Push messages every 25 s (not client.ping_interval: Centrifugo's uni_grpc
// uses the library default) and no pong is expected; HTTP/2 keepalive pings (25 s, 5 s to answer) find dead peers.
import type { ChannelOptions, ServerCredentials, ServerWritableStream, ServiceDefinition } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { GyreConfig } from '../config/types.js';
import type { Disconnect } from '../protocol/errors.js';
import { concatBytes, encodeVarint, splitDelimited } from '../protocol/framing.js';
import { centrifugal as generated } from '../protocol/gen/client.js';
import type { centrifugal } from '../protocol/gen/client-types.js';
import type { SessionAcceptor, SessionPort, Transport, TransportInfo } from '../transports/types.js';
import { GrpcServer } from './server.js';

const CONSUME_PATH = '/centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume';

/** Centrifugo's keepalive for this server: a ping after 25 s of silence, 5 s for its ack; client pings ≥ 5 s apart. */
const KEEPALIVE: ChannelOptions = {
  'grpc.keepalive_time_ms': 25_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
};

const ConnectRequest = (generated as unknown as typeof centrifugal).centrifuge.protocol.ConnectRequest;

/** Command{id: 1, connect: <request bytes>} as one varint-delimited protobuf frame, the request bytes kept as sent. */
export function connectCommandFrame(request: Uint8Array): Uint8Array {
  const command = concatBytes([Uint8Array.of(0x08, 0x01, 0x22), encodeVarint(request.length), request]);
  return concatBytes([encodeVarint(command.length), command]);
}

/** "ipv4:127.0.0.1:5000", "[::1]:5000" or "127.0.0.1:5000" → the address part. */
function peerAddress(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const m = /^\[(.*)\]:\d+$/.exec(p) ?? /^(.*):\d+$/.exec(p);
  return m?.[1] ?? p;
}

type Call = ServerWritableStream<Buffer, Uint8Array>;

class UniGrpcInfo implements TransportInfo {
  readonly name = 'uni_grpc' as const;
  readonly protocol = 'protobuf' as const;
  readonly unidirectional = true;
  /** Centrifugo's uni_grpc transport has no ping setting: the library default, 25 s, whatever client.ping_interval. */
  readonly pingInterval = 25_000;
  readonly remoteAddress: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  constructor(call: Call) {
    this.remoteAddress = peerAddress(call.getPeer());
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) if (typeof v === 'string') headers[k] = v;
    this.headers = headers;
  }
}

class UniGrpcTransport implements Transport {
  readonly info: UniGrpcInfo;
  private closed = false;
  port: SessionPort | undefined = undefined;

  constructor(private readonly call: Call) {
    this.info = new UniGrpcInfo(call);
  }

  /** One frame of varint-delimited bare Push messages: each is one GRPC message of the stream. */
  write(frame: Uint8Array): void {
    if (this.closed) return;
    const { messages } = splitDelimited(frame);
    for (let i = 0; i < messages.length; i++) this.call.write(messages[i] as Uint8Array);
  }

  get bufferedBytes(): number {
    return this.call.writableLength;
  }

  onceDrained(cb: () => void): void {
    if (this.closed || this.call.writableLength === 0) {
      setImmediate(cb);
      return;
    }
    const done = (): void => {
      this.call.off('drain', done);
      this.call.off('close', done);
      cb();
    };
    this.call.on('drain', done);
    this.call.on('close', done);
  }

  pauseReading(): void {
    // Nothing is read after the connect request.
  }

  resumeReading(): void {
    // Nothing is read after the connect request.
  }

  /** Ends the stream with status OK (the disconnect push, if any, was written before). Idempotent. */
  close(_disconnect?: Disconnect): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.call.cancelled && !this.call.destroyed) this.call.end();
  }

  /** The peer went away (cancelled, reset, keepalive failure). */
  gone(): void {
    this.closed = true;
    this.port?.handleTransportClose();
  }
}

export interface UniGrpcOptions {
  config: GyreConfig['uni_grpc'];
  credentials: ServerCredentials;
  acceptor: SessionAcceptor;
  logger: Logger;
}

export class UniGrpcServer {
  private readonly grpc: GrpcServer;
  private readonly live = new Set<UniGrpcTransport>();

  constructor(private readonly opts: UniGrpcOptions) {
    this.grpc = new GrpcServer(opts.config, opts.credentials, KEEPALIVE);
    const def: ServiceDefinition = {
      Consume: {
        path: CONSUME_PATH,
        requestStream: false,
        responseStream: true,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Uint8Array) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
        responseDeserialize: (b: Buffer) => b,
        originalName: 'Consume',
      },
    };
    this.grpc.server.addService(def, { Consume: (call: Call) => this.consume(call) });
  }

  listen(): Promise<number> {
    return this.grpc.listen();
  }

  /** Open streams (tests, metrics). */
  get size(): number {
    return this.live.size;
  }

  close(): Promise<void> {
    return this.grpc.close();
  }

  private consume(call: Call): void {
    try {
      ConnectRequest.decode(call.request);
    } catch (err) {
      // As grpc-go answers a request it cannot unmarshal.
      call.emit('error', { code: status.INTERNAL, details: `grpc: error unmarshalling request: ${(err as Error).message}` });
      return;
    }
    if (this.opts.acceptor.shuttingDown) {
      call.emit('error', { code: status.UNAVAILABLE, details: 'shutting down' });
      return;
    }
    const transport = new UniGrpcTransport(call);
    this.live.add(transport);
    const gone = (): void => {
      if (!this.live.delete(transport)) return;
      transport.gone();
    };
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
    try {
      transport.port = this.opts.acceptor.accept(transport);
      transport.port.handleFrame(connectCommandFrame(call.request));
    } catch (err) {
      this.opts.logger.error({ err }, 'uni_grpc stream failed');
      transport.close();
      gone();
    }
  }
}
