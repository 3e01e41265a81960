// The GRPC server API (`grpc_api.*`, docs/grpc.md): Centrifugo's service centrifugal.centrifugo.api.CentrifugoApi
// from api.proto, served by grpc-js on its own port. Each method decodes its request (api-codec.ts), runs it on
// the executor the HTTP API uses and answers its *Response: `{result}`, or `{error}` with Centrifugo's API code.
// In transport error mode (`grpc_api.error_mode: "transport"`, or metadata `x-centrifugo-error-mode: transport` on
// the call) an error is a GRPC status instead, with the Error message in its details, as Centrifugo sends it.
// With `grpc_api.key` set, every call must carry metadata `authorization: apikey <key>` (else UNAUTHENTICATED).
// Methods this server does not have (Centrifugo PRO's) answer UNIMPLEMENTED.
import { timingSafeEqual } from 'node:crypto';
import { Metadata, status, type sendUnaryData, type ServerCredentials, type ServerUnaryCall, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import type { Logger } from 'pino';
import { ApiErrors, SchemaError } from '../api/errors.js';
import { ApiExecutor } from '../api/executor.js';
import type { ApiCommand, BatchReq, CommandMethod } from '../api/schemas.js';
import type { GyreConfig } from '../config/types.js';
import type { NodeApi } from '../core/types.js';
import { ApiError } from '../protocol/errors.js';
import { DecodeError, decodeBatch, decodeRequest, encodeBatchResponse, encodeErrorResponse, encodeResultResponse, errorOut, pb } from './api-codec.js';
import { addReflection } from './reflection.js';
import { GrpcServer } from './server.js';

const SERVICE = 'centrifugal.centrifugo.api.CentrifugoApi';

/** GRPC method name → command, in api.proto's order. */
const METHODS: readonly (readonly [string, CommandMethod])[] = [
  ['Publish', 'publish'],
  ['Broadcast', 'broadcast'],
  ['Subscribe', 'subscribe'],
  ['Unsubscribe', 'unsubscribe'],
  ['Disconnect', 'disconnect'],
  ['Presence', 'presence'],
  ['PresenceStats', 'presence_stats'],
  ['History', 'history'],
  ['HistoryRemove', 'history_remove'],
  ['Info', 'info'],
  ['RPC', 'rpc'],
  ['Refresh', 'refresh'],
  ['Channels', 'channels'],
  ['MapPublish', 'map_publish'],
  ['MapRemove', 'map_remove'],
  ['MapReadState', 'map_read_state'],
  ['MapReadStream', 'map_read_stream'],
  ['MapStats', 'map_stats'],
  ['MapClear', 'map_clear'],
  ['SharedPollPublish', 'shared_poll_publish'],
];

/** Centrifugo's API code → GRPC status code (its MapErrorToGRPCCode). */
export function grpcStatusOf(code: number): status {
  switch (code) {
    case 102:
    case 104:
      return status.NOT_FOUND;
    case 107:
    case 108:
      return status.INVALID_ARGUMENT;
    case 112:
      return status.OUT_OF_RANGE;
    case 113:
      return status.ALREADY_EXISTS;
    default:
      return status.INTERNAL;
  }
}

/** `grpc-status-details-bin`: a google.rpc.Status whose one detail is the API Error (google.protobuf.Any). */
function statusDetails(code: status, err: ApiError): Buffer {
  const any = protobuf.Writer.create();
  any.uint32(10).string('type.googleapis.com/centrifugal.centrifugo.api.Error');
  any.uint32(18).bytes(pb.Error.encode(errorOut(err)).finish());
  const st = protobuf.Writer.create();
  st.uint32(8).int32(code);
  st.uint32(18).string(err.message);
  st.uint32(26).bytes(any.finish());
  return Buffer.from(st.finish());
}

function identity(b: Buffer): Buffer {
  return b;
}

function serialize(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The service definition with raw-bytes (de)serializers: decoding happens in the handlers. */
function definition(): ServiceDefinition {
  const def: Record<string, ServiceDefinition[string]> = {};
  for (const name of ['Batch', ...METHODS.map(([n]) => n)]) {
    def[name] = {
      path: `/${SERVICE}/${name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: serialize,
      responseDeserialize: identity,
      originalName: name,
    };
  }
  return def;
}

type Call = ServerUnaryCall<Buffer, Uint8Array>;
type Callback = sendUnaryData<Uint8Array>;

export interface GrpcApiOptions {
  config: GyreConfig['grpc_api'];
  credentials: ServerCredentials;
  node: NodeApi;
  logger: Logger;
}

export class GrpcApiServer {
  private readonly grpc: GrpcServer;
  private readonly executor: ApiExecutor;
  private readonly authKey: Buffer | undefined;
  private readonly logger: Logger;

  constructor(private readonly opts: GrpcApiOptions) {
    this.logger = opts.logger;
    this.executor = new ApiExecutor(opts.node, opts.logger, 'grpc');
    this.authKey = opts.config.key !== '' ? Buffer.from(`apikey ${opts.config.key}`) : undefined;
    this.grpc = new GrpcServer(opts.config, opts.credentials);
    const impl: UntypedServiceImplementation = { Batch: (call: Call, cb: Callback) => void this.batch(call, cb) };
    for (const [name, method] of METHODS) impl[name] = (call: Call, cb: Callback) => void this.unary(method, call, cb);
    this.grpc.server.addService(definition(), impl);
    if (opts.config.reflection) addReflection(this.grpc.server);
  }

  listen(): Promise<number> {
    return this.grpc.listen();
  }

  close(): Promise<void> {
    return this.grpc.close();
  }

  /** Centrifugo compares the first `authorization` value with "apikey <key>", in constant time. */
  private authorized(md: Metadata): boolean {
    if (this.authKey === undefined) return true;
    const v = md.get('authorization')[0];
    if (typeof v !== 'string') return false;
    const got = Buffer.from(v);
    return got.byteLength === this.authKey.byteLength && timingSafeEqual(got, this.authKey);
  }

  private transportErrors(md: Metadata): boolean {
    return this.opts.config.error_mode === 'transport' || md.get('x-centrifugo-error-mode')[0] === 'transport';
  }

  /** A request that is not protobuf: GRPC INTERNAL, as grpc-go answers a message it cannot unmarshal. */
  private static undecodable(cb: Callback, err: DecodeError): void {
    cb({ code: status.INTERNAL, details: `grpc: error unmarshalling request: ${err.message}` });
  }

  private async unary(method: CommandMethod, call: Call, cb: Callback): Promise<void> {
    try {
      let cmd: ApiCommand | undefined;
      try {
        cmd = decodeRequest(method, call.request);
      } catch (err) {
        if (err instanceof DecodeError) return GrpcApiServer.undecodable(cb, err);
        if (!(err instanceof SchemaError)) throw err;
      }
      if (!this.authorized(call.metadata)) return cb({ code: status.UNAUTHENTICATED, details: 'unauthenticated' });
      let error: ApiError;
      try {
        if (cmd === undefined) throw ApiErrors.badRequest();
        return cb(null, encodeResultResponse(await this.executor.execute(cmd)));
      } catch (err) {
        error = err instanceof ApiError ? err : ApiErrors.internal();
      }
      if (!this.transportErrors(call.metadata)) return cb(null, encodeErrorResponse(error));
      const code = grpcStatusOf(error.code);
      const trailer = new Metadata();
      trailer.set('grpc-status-details-bin', statusDetails(code, error));
      cb({ code, details: error.message, metadata: trailer });
    } catch (err) {
      this.failed(cb, err, method);
    }
  }

  private async batch(call: Call, cb: Callback): Promise<void> {
    try {
      let req: BatchReq;
      try {
        req = decodeBatch(call.request);
      } catch (err) {
        if (err instanceof DecodeError) return GrpcApiServer.undecodable(cb, err);
        throw err;
      }
      if (!this.authorized(call.metadata)) return cb({ code: status.UNAUTHENTICATED, details: 'unauthenticated' });
      cb(null, encodeBatchResponse(await this.executor.batchOutcomes(req)));
    } catch (err) {
      this.failed(cb, err, 'batch');
    }
  }

  /** The boundary: anything unexpected is logged and answered INTERNAL, never thrown out of grpc-js. */
  private failed(cb: Callback, err: unknown, method: string): void {
    this.logger.error({ err, method }, 'GRPC API call failed');
    cb({ code: status.INTERNAL, details: 'internal server error' });
  }
}
