// The protobuf codec of the GRPC server API (api.proto, docs/grpc.md). Requests are decoded with the static code
// generated from api.proto, turned into plain values and handed to the same request decoder as the HTTP API
// (api/schemas.ts), so both APIs accept exactly the same commands; results (api/results.ts) are encoded as the
// method's `*Response`. Payload fields stay bytes in both directions: copied out of the request, never parsed.
import { SchemaError } from '../api/errors.js';
import type { ApiOutcome, BatchOutcome } from '../api/results.js';
import { parseBatchItem, parseCommand } from '../api/schemas.js';
import type { ApiCommand, BatchItem, BatchReq, CommandMethod } from '../api/schemas.js';
import type { ApiError } from '../protocol/errors.js';
import { centrifugal as generated } from './gen/api.js';
import type { centrifugal } from './gen/api-types.js';

type Pb = typeof centrifugal.centrifugo.api;
// gen/api.ts is generated JS under @ts-nocheck; its declarations live in gen/api-types.d.ts.
export const pb: Pb = (generated as unknown as typeof centrifugal).centrifugo.api;

/** A request that is not a valid protobuf message of the method's request type. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Each method's request type, by command name. */
const REQUEST_TYPES: { readonly [M in CommandMethod]: { decode(b: Uint8Array): object } } = {
  publish: pb.PublishRequest,
  broadcast: pb.BroadcastRequest,
  subscribe: pb.SubscribeRequest,
  unsubscribe: pb.UnsubscribeRequest,
  disconnect: pb.DisconnectRequest,
  presence: pb.PresenceRequest,
  presence_stats: pb.PresenceStatsRequest,
  history: pb.HistoryRequest,
  history_remove: pb.HistoryRemoveRequest,
  info: pb.InfoRequest,
  rpc: pb.RPCRequest,
  refresh: pb.RefreshRequest,
  channels: pb.ChannelsRequest,
  map_publish: pb.MapPublishRequest,
  map_remove: pb.MapRemoveRequest,
  map_read_state: pb.MapReadStateRequest,
  map_read_stream: pb.MapReadStreamRequest,
  map_stats: pb.MapStatsRequest,
  map_clear: pb.MapClearRequest,
  shared_poll_publish: pb.SharedPollPublishRequest,
};

function isLong(v: object): v is { toNumber(): number } {
  return 'low' in v && 'high' in v && typeof (v as { toNumber?: unknown }).toNumber === 'function';
}

/**
 * A decoded message as the plain value a JSON body would have given: only the fields present on the wire (the
 * generated code sets no own property for a zero value), 64-bit integers as numbers (an unsafe one then fails the
 * schema's range check), bytes copied out of the request buffer.
 */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v === null || typeof v !== 'object') return v;
  if (isLong(v)) return v.toNumber();
  const out: Record<string, unknown> = {};
  for (const [k, field] of Object.entries(v)) {
    if (k.startsWith('$')) continue; // $unknowns: fields this api.proto does not know
    const value = plain(field);
    if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
    else out[k] = value;
  }
  return out;
}

function decodeMessage(type: { decode(b: Uint8Array): object }, bytes: Uint8Array): unknown {
  try {
    return plain(type.decode(bytes));
  } catch (err) {
    throw new DecodeError((err as Error).message);
  }
}

/** One method's request. Throws DecodeError (not protobuf) or SchemaError (a field out of range). */
export function decodeRequest(method: CommandMethod, bytes: Uint8Array): ApiCommand {
  return parseCommand(method, decodeMessage(REQUEST_TYPES[method], bytes));
}

/** A BatchRequest; a command whose fields do not fit becomes a 107 reply, one with no known method 104. */
export function decodeBatch(bytes: Uint8Array): BatchReq {
  const o = decodeMessage(pb.BatchRequest, bytes) as { commands?: unknown[]; parallel?: boolean };
  const commands: BatchItem[] = (o.commands ?? []).map((c) => {
    try {
      return parseBatchItem(c);
    } catch (err) {
      if (err instanceof SchemaError) return null;
      throw err;
    }
  });
  return { commands, parallel: o.parallel === true };
}

export function errorOut(err: ApiError): centrifugal.centrifugo.api.Error.$Properties {
  return { code: err.code, message: err.message };
}

/** `{error}`: every *Response of api.proto has `Error error = 1`, so one encoding fits them all. */
export function encodeErrorResponse(err: ApiError): Uint8Array {
  return pb.PublishResponse.encode({ error: errorOut(err) }).finish();
}

/** The method's *Response with `result` set. */
export function encodeResultResponse(o: ApiOutcome): Uint8Array {
  switch (o.method) {
    case 'publish':
      return pb.PublishResponse.encode({ result: o.result as centrifugal.centrifugo.api.PublishResult.$Properties }).finish();
    case 'broadcast':
      return pb.BroadcastResponse.encode({ result: o.result as centrifugal.centrifugo.api.BroadcastResult.$Properties }).finish();
    case 'presence':
      return pb.PresenceResponse.encode({ result: o.result as centrifugal.centrifugo.api.PresenceResult.$Properties }).finish();
    case 'presence_stats':
      return pb.PresenceStatsResponse.encode({ result: o.result }).finish();
    case 'history':
      return pb.HistoryResponse.encode({ result: o.result as centrifugal.centrifugo.api.HistoryResult.$Properties }).finish();
    case 'channels':
      return pb.ChannelsResponse.encode({ result: o.result as centrifugal.centrifugo.api.ChannelsResult.$Properties }).finish();
    case 'info':
      return pb.InfoResponse.encode({ result: o.result as centrifugal.centrifugo.api.InfoResult.$Properties }).finish();
    case 'subscribe':
    case 'unsubscribe':
    case 'disconnect':
    case 'refresh':
    case 'history_remove':
    case 'rpc':
    case 'map_clear':
    case 'shared_poll_publish':
      // Empty results: `result` is an empty message (field 2, length 0), the same bytes for every method.
      return pb.SubscribeResponse.encode({ result: {} }).finish();
    case 'map_publish':
    case 'map_remove':
      return pb.MapPublishResponse.encode({ result: o.result as centrifugal.centrifugo.api.MapPublishResult.$Properties }).finish();
    case 'map_read_state':
      return pb.MapReadStateResponse.encode({ result: o.result as centrifugal.centrifugo.api.MapReadStateResult.$Properties }).finish();
    case 'map_read_stream':
      return pb.MapReadStreamResponse.encode({ result: o.result as centrifugal.centrifugo.api.MapReadStreamResult.$Properties }).finish();
    case 'map_stats':
      return pb.MapStatsResponse.encode({ result: o.result as centrifugal.centrifugo.api.MapStatsResult.$Properties }).finish();
  }
}

/** BatchResponse: one Reply per command, its result under the method's field or its error. */
export function encodeBatchResponse(outcomes: readonly BatchOutcome[]): Uint8Array {
  const replies = outcomes.map((o): centrifugal.centrifugo.api.Reply.$Properties =>
    o.method === 'error' ? { error: errorOut(o.error) } : { [o.method]: o.result },
  );
  return pb.BatchResponse.encode({ replies }).finish();
}
