// The Protobuf codec (docs/protocol.md §1.2): varint-length-delimited Commands in, bare Reply messages out
// (joinFrames adds the length prefixes). Uses the static code generated from client.proto (gen/).
import type { Codec, DecodeResult, FrameCursor } from './codec.js';
import { delimitedOne, joinDelimited, readVarint, type VarintCursor } from './framing.js';
import { centrifugal as generated } from './gen/client.js';
import type { centrifugal } from './gen/client-types.js';
import type {
  Command,
  ConnectRequest,
  HistoryRequest,
  KeyedItem,
  Publication,
  PublishRequest,
  Push,
  Raw,
  Reply,
  RpcRequest,
  SubRefreshRequest,
  SubscribeRequest,
} from './types.js';

type Pb = typeof centrifugal.centrifuge.protocol;
type PbCommand = centrifugal.centrifuge.protocol.Command.$Properties;
type PbConnectRequest = centrifugal.centrifuge.protocol.ConnectRequest.$Properties;
type PbSubscribeRequest = centrifugal.centrifuge.protocol.SubscribeRequest.$Properties;
type PbHistoryRequest = centrifugal.centrifuge.protocol.HistoryRequest.$Properties;
type PbFilterNode = centrifugal.centrifuge.protocol.FilterNode.$Properties;
type PbSubRefreshRequest = centrifugal.centrifuge.protocol.SubRefreshRequest.$Properties;

// gen/client.ts is generated JS under @ts-nocheck; its declarations live in gen/client-types.d.ts.
const pb: Pb = (generated as unknown as typeof centrifugal).centrifuge.protocol;

/** protobufjs decodes 64-bit integers as Long objects (when the `long` package is present) or numbers. */
type Int64 = number | { toNumber(): number } | null | undefined;

function num(v: Int64): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = typeof v === 'number' ? v : v.toNumber(); // beyond 2^53 precision is lost, as in JSON
  return n === 0 || !Number.isFinite(n) ? undefined : n;
}

function str(v: string | null | undefined): string | undefined {
  return v === null || v === undefined || v === '' ? undefined : v;
}

function bool(v: boolean | null | undefined): true | undefined {
  return v === true ? true : undefined;
}

/** Copy: decoded bytes are views into the transport frame, which must not be retained. */
function bytes(v: Uint8Array | null | undefined): Raw | undefined {
  return v === null || v === undefined || v.length === 0 ? undefined : new Uint8Array(v);
}

function put<T extends object, K extends keyof T>(o: T, k: K, v: Exclude<T[K], undefined> | undefined): void {
  if (v !== undefined) o[k] = v;
}

function setKey<V>(out: Record<string, V>, k: string, v: V): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

type FilterNode = { op?: string; key?: string; cmp?: string; val?: string; vals?: string[]; nodes?: FilterNode[] };

function filterNode(f: PbFilterNode): FilterNode {
  const out: FilterNode = {};
  put(out, 'op', str(f.op));
  put(out, 'key', str(f.key));
  put(out, 'cmp', str(f.cmp));
  put(out, 'val', str(f.val));
  if (f.vals && f.vals.length > 0) out.vals = f.vals.slice();
  if (f.nodes && f.nodes.length > 0) out.nodes = f.nodes.map(filterNode);
  return out;
}

function subscribeRequest(r: PbSubscribeRequest): SubscribeRequest {
  const out: SubscribeRequest = { channel: r.channel ?? '' };
  put(out, 'token', str(r.token));
  put(out, 'recover', bool(r.recover));
  put(out, 'epoch', str(r.epoch));
  put(out, 'offset', num(r.offset));
  put(out, 'data', bytes(r.data));
  put(out, 'positioned', bool(r.positioned));
  put(out, 'recoverable', bool(r.recoverable));
  put(out, 'join_leave', bool(r.join_leave));
  put(out, 'delta', str(r.delta));
  if (r.tf !== null && r.tf !== undefined) out.tf = filterNode(r.tf);
  put(out, 'flag', num(r.flag));
  put(out, 'type', num(r.type));
  put(out, 'phase', num(r.phase));
  put(out, 'cursor', str(r.cursor));
  put(out, 'limit', num(r.limit));
  put(out, 'asc', bool(r.asc));
  return out;
}

function connectRequest(r: PbConnectRequest): ConnectRequest {
  const out: ConnectRequest = {};
  put(out, 'token', str(r.token));
  put(out, 'data', bytes(r.data));
  const subs = r.subs;
  if (subs !== null && subs !== undefined) {
    const keys = Object.keys(subs);
    if (keys.length > 0) {
      const m: Record<string, SubscribeRequest> = {};
      for (const k of keys) {
        const s = subs[k];
        if (s !== undefined) setKey(m, k, subscribeRequest(s));
      }
      out.subs = m;
    }
  }
  put(out, 'name', str(r.name));
  put(out, 'version', str(r.version));
  const headers = r.headers;
  if (headers !== null && headers !== undefined) {
    const keys = Object.keys(headers);
    if (keys.length > 0) {
      const m: Record<string, string> = {};
      for (const k of keys) setKey(m, k, headers[k] ?? '');
      out.headers = m;
    }
  }
  put(out, 'flag', num(r.flag));
  return out;
}

function subRefreshRequest(r: PbSubRefreshRequest): SubRefreshRequest {
  const out: SubRefreshRequest = { channel: r.channel ?? '' };
  put(out, 'token', str(r.token));
  put(out, 'type', num(r.type));
  if (r.track && r.track.length > 0) {
    out.track = r.track.map((b) => ({
      signature: b.signature ?? '',
      items: (b.items ?? []).map((it) => {
        const item: KeyedItem = { key: it.key ?? '' };
        put(item, 'version', num(it.version));
        return item;
      }),
    }));
  }
  if (r.untrack && r.untrack.length > 0) out.untrack = r.untrack.slice();
  return out;
}

function historyRequest(r: PbHistoryRequest): HistoryRequest {
  const out: HistoryRequest = { channel: r.channel ?? '' };
  put(out, 'limit', num(r.limit));
  if (r.since !== null && r.since !== undefined) {
    out.since = { offset: num(r.since.offset) ?? 0, epoch: r.since.epoch ?? '' };
  }
  put(out, 'reverse', bool(r.reverse));
  return out;
}

function withData<T extends { data?: Raw }>(out: T, data: Uint8Array | null | undefined): T {
  const b = bytes(data);
  if (b !== undefined) out.data = b;
  return out;
}

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;

/** First non-null request in Centrifugo's detection order (docs/protocol.md §1.1 rule 6). */
function toCommand(m: PbCommand): Command {
  const id = m.id ?? 0;
  if (present(m.connect)) return { kind: 'connect', id, connect: connectRequest(m.connect) };
  if (present(m.subscribe)) return { kind: 'subscribe', id, subscribe: subscribeRequest(m.subscribe) };
  if (present(m.unsubscribe)) return { kind: 'unsubscribe', id, unsubscribe: { channel: m.unsubscribe.channel ?? '' } };
  if (present(m.publish)) {
    const publish: PublishRequest = { channel: m.publish.channel ?? '' };
    put(publish, 'type', num(m.publish.type));
    put(publish, 'key', str(m.publish.key));
    put(publish, 'removed', bool(m.publish.removed));
    return { kind: 'publish', id, publish: withData(publish, m.publish.data) };
  }
  if (present(m.presence)) return { kind: 'presence', id, presence: { channel: m.presence.channel ?? '' } };
  if (present(m.presence_stats)) {
    return { kind: 'presence_stats', id, presence_stats: { channel: m.presence_stats.channel ?? '' } };
  }
  if (present(m.history)) return { kind: 'history', id, history: historyRequest(m.history) };
  if (present(m.rpc)) {
    const rpc: RpcRequest = withData({}, m.rpc.data);
    put(rpc, 'method', str(m.rpc.method));
    return { kind: 'rpc', id, rpc };
  }
  if (present(m.send)) return { kind: 'send', id, send: withData({}, m.send.data) };
  if (present(m.refresh)) return { kind: 'refresh', id, refresh: { token: m.refresh.token ?? '' } };
  if (present(m.sub_refresh)) return { kind: 'sub_refresh', id, sub_refresh: subRefreshRequest(m.sub_refresh) };
  return id === 0 ? { kind: 'pong', id: 0 } : { kind: 'unknown', id };
}

// Our wire types use the proto field names and plain numbers/Uint8Arrays, which the generated encoders
// accept as they are (structurally assignable to Reply.$Properties, so no cast is needed).
function encodeReplyMessage(reply: Reply | { push: Push }): Uint8Array {
  return pb.Reply.encode(reply).finish();
}

export class ProtobufCodec implements Codec {
  readonly format = 'protobuf' as const;
  /** An empty Reply serialises to zero bytes; framed it is the single byte 0x00. */
  readonly pingMessage: Uint8Array = new Uint8Array(0);
  private readonly cursor: VarintCursor = { pos: 0, value: 0 };
  private readonly pushCursor: VarintCursor = { pos: 0, value: 0 };

  /** A Reply holding only `push` (field 4, length-delimited: tag 0x22) → the Push bytes. */
  barePush(message: Uint8Array): Uint8Array {
    if (message.length < 2 || message[0] !== 0x22) return message;
    const cur = this.pushCursor;
    cur.pos = 1;
    if (!readVarint(message, cur) || cur.pos + cur.value !== message.length) return message;
    return message.subarray(cur.pos);
  }

  decodeCommands(frame: Uint8Array): DecodeResult {
    return this.decodeSome(frame, { pos: 0 }, Infinity);
  }

  decodeSome(frame: Uint8Array, cursor: FrameCursor, max: number): DecodeResult {
    const commands: Command[] = [];
    const len = frame.length;
    if (len === 0) {
      cursor.pos = 1;
      return { commands, error: 'empty frame' };
    }
    const cur = this.cursor;
    cur.pos = cursor.pos;
    while (cur.pos < len && commands.length < max) {
      if (!readVarint(frame, cur)) return this.failed(cursor, len, commands, 'bad length prefix');
      const start = cur.pos;
      const end = start + cur.value;
      if (end > len) return this.failed(cursor, len, commands, 'truncated command');
      try {
        commands.push(toCommand(pb.Command.decode(frame.subarray(start, end))));
      } catch {
        return this.failed(cursor, len, commands, 'malformed protobuf command');
      }
      cur.pos = end;
    }
    cursor.pos = cur.pos;
    return { commands };
  }

  private failed(cursor: FrameCursor, len: number, commands: Command[], error: string): DecodeResult {
    cursor.pos = len;
    return { commands, error };
  }

  encodeReply(reply: Reply): Uint8Array {
    return encodeReplyMessage(reply);
  }

  encodePush(push: Push): Uint8Array {
    return encodeReplyMessage({ push });
  }

  encodePublicationPush(channel: string, pub: Publication): Uint8Array {
    return encodeReplyMessage({ push: { channel, pub } });
  }

  joinFrames(messages: readonly Uint8Array[]): Uint8Array {
    return joinDelimited(messages);
  }

  /** The last message framed and its frame: a publication delivered to N subscribers is prefixed once. */
  private lastOne: Uint8Array | null = null;
  private lastOneFrame: Uint8Array = new Uint8Array(0);

  frameOne(message: Uint8Array): Uint8Array {
    if (message === this.lastOne) return this.lastOneFrame;
    const frame = delimitedOne(message);
    this.lastOne = message;
    this.lastOneFrame = frame;
    return frame;
  }

  canCarry(_data: Uint8Array): boolean {
    return true;
  }
}
