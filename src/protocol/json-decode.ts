// Decoding of newline-delimited JSON commands (docs/protocol.md §1.1–1.3, §1.5) into the Command union.
// Every value is type-checked; a bad line stops decoding and is reported, never thrown. Zero values
// (false, 0, "") are left out, so a JSON and a protobuf command with the same meaning decode alike.
// Every `data` field is the exact bytes the client sent (docs/payloads.md), never a re-serialised value:
// a line that mentions "data" is parsed from its bytes by parseJson (json-scan.ts), which keeps those
// bytes; any other line (connect with a token, subscribe, …) goes through the faster native JSON.parse.
// Measured against the decoder this replaced: bench/json-decode.bench.ts.
import type { DecodeResult, FrameCursor } from './codec.js';
import { parseJson } from './json-scan.js';
import type {
  Command,
  ConnectRequest,
  HistoryRequest,
  KeyedItem,
  PublishRequest,
  Raw,
  RpcRequest,
  SubRefreshRequest,
  StreamPosition,
  SubscribeRequest,
  TrackBatch,
} from './types.js';

const decoder = new TextDecoder();
/** Lines after the first keep a leading BOM as text (only the frame's own start may carry one). */
const lineDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Members kept as bytes only: every payload field of the client protocol is called `data`. */
const OPAQUE_KEYS: ReadonlySet<string> = new Set(['data']);
/** Payload fields are at most 4 objects deep: connect → subs → <channel> → data. */
const RAW_DEPTH = 4;

/** A `data` member came through JSON.parse (its key was spelt with escapes): parse the line from its bytes. */
class NeedBytes extends Error {}

const MAX_UINT32 = 0xffff_ffff;
const MAX_UINT64 = 2 ** 64;
const MIN_INT32 = -(2 ** 31);
const MAX_INT32 = 2 ** 31 - 1;

/** Thrown inside this module only; decodeJsonCommands turns it into `error`. */
class DecodeFailure extends Error {}

function fail(message: string): never {
  throw new DecodeFailure(message);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Assign only defined values (exactOptionalPropertyTypes-friendly). */
function put<T extends object, K extends keyof T>(o: T, k: K, v: Exclude<T[K], undefined> | undefined): void {
  if (v !== undefined) o[k] = v;
}

/** `out[k] = v` that also works for the key "__proto__". */
function setKey<V>(out: Record<string, V>, k: string, v: V): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

// JSON null counts as absent, like Go's decoder.
function str(o: Obj, k: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`${k}: string expected`);
  return v === '' ? undefined : v;
}

function bool(o: Obj, k: string): true | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(`${k}: boolean expected`);
  return v ? true : undefined;
}

function int(o: Obj, k: string, min: number, max: number): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`${k}: bad number`);
  return v === 0 ? undefined : v;
}

const uint32 = (o: Obj, k: string): number | undefined => int(o, k, 0, MAX_UINT32);
const uint64 = (o: Obj, k: string): number | undefined => int(o, k, 0, MAX_UINT64);
const int32 = (o: Obj, k: string): number | undefined => int(o, k, MIN_INT32, MAX_INT32);
const int64 = (o: Obj, k: string): number | undefined => int(o, k, -MAX_UINT64, MAX_UINT64);

/** The `data` member (JSON null counts as absent), as the bytes received. */
function raw(o: Obj): Raw | undefined {
  const v = o['data'];
  if (v === undefined || v === null) return undefined;
  if (v instanceof Uint8Array) return v;
  throw new NeedBytes();
}

function obj(o: Obj, k: string): Obj | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) fail(`${k}: object expected`);
  return v;
}

function strMap(o: Obj, k: string): Record<string, string> | undefined {
  const m = obj(o, k);
  if (m === undefined) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const key of Object.keys(m)) {
    const v = m[key];
    if (v === null) continue;
    if (typeof v !== 'string') fail(`${k}: string values expected`);
    setKey(out, key, v);
    n++;
  }
  return n > 0 ? out : undefined;
}

function channelOnly(r: Obj): { channel: string } {
  return { channel: str(r, 'channel') ?? '' };
}

function subscribeRequest(r: Obj): SubscribeRequest {
  const out: SubscribeRequest = { channel: str(r, 'channel') ?? '' };
  put(out, 'token', str(r, 'token'));
  put(out, 'recover', bool(r, 'recover'));
  put(out, 'epoch', str(r, 'epoch'));
  put(out, 'offset', uint64(r, 'offset'));
  put(out, 'data', raw(r));
  put(out, 'positioned', bool(r, 'positioned'));
  put(out, 'recoverable', bool(r, 'recoverable'));
  put(out, 'join_leave', bool(r, 'join_leave'));
  put(out, 'delta', str(r, 'delta'));
  put(out, 'tf', obj(r, 'tf'));
  put(out, 'flag', int64(r, 'flag'));
  put(out, 'type', int32(r, 'type'));
  put(out, 'phase', int32(r, 'phase'));
  put(out, 'cursor', str(r, 'cursor'));
  put(out, 'limit', int32(r, 'limit'));
  put(out, 'asc', bool(r, 'asc'));
  return out;
}

function publishRequest(r: Obj): PublishRequest {
  const out = withData<PublishRequest>(channelOnly(r), r);
  put(out, 'type', int32(r, 'type'));
  put(out, 'key', str(r, 'key'));
  put(out, 'removed', bool(r, 'removed'));
  return out;
}

function connectRequest(r: Obj): ConnectRequest {
  const out: ConnectRequest = {};
  put(out, 'token', str(r, 'token'));
  put(out, 'data', raw(r));
  const subs = obj(r, 'subs');
  if (subs !== undefined) {
    const m: Record<string, SubscribeRequest> = {};
    let n = 0;
    for (const ch of Object.keys(subs)) {
      const s = subs[ch];
      if (s === null) continue;
      if (!isObj(s)) fail('subs: object values expected');
      setKey(m, ch, subscribeRequest(s));
      n++;
    }
    if (n > 0) out.subs = m;
  }
  put(out, 'name', str(r, 'name'));
  put(out, 'version', str(r, 'version'));
  put(out, 'headers', strMap(r, 'headers'));
  put(out, 'flag', int64(r, 'flag'));
  return out;
}

function historyRequest(r: Obj): HistoryRequest {
  const out: HistoryRequest = channelOnly(r);
  put(out, 'limit', int32(r, 'limit'));
  const since = obj(r, 'since');
  if (since !== undefined) {
    const pos: StreamPosition = { offset: uint64(since, 'offset') ?? 0, epoch: str(since, 'epoch') ?? '' };
    out.since = pos;
  }
  put(out, 'reverse', bool(r, 'reverse'));
  return out;
}

/** An optional array member (JSON null counts as absent). */
function arr(o: Obj, k: string): unknown[] | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(`${k}: array expected`);
  return v as unknown[];
}

function strList(o: Obj, k: string): string[] | undefined {
  const a = arr(o, k);
  if (a === undefined || a.length === 0) return undefined;
  for (const x of a) if (typeof x !== 'string') fail(`${k}: strings expected`);
  return a as string[];
}

function trackBatches(o: Obj): TrackBatch[] | undefined {
  const a = arr(o, 'track');
  if (a === undefined || a.length === 0) return undefined;
  return a.map((b): TrackBatch => {
    if (!isObj(b)) fail('track: objects expected');
    const items = (arr(b, 'items') ?? []).map((it): KeyedItem => {
      if (!isObj(it)) fail('items: objects expected');
      const item: KeyedItem = { key: str(it, 'key') ?? '' };
      put(item, 'version', uint64(it, 'version'));
      return item;
    });
    return { signature: str(b, 'signature') ?? '', items };
  });
}

function subRefreshRequest(r: Obj): SubRefreshRequest {
  const out: SubRefreshRequest = channelOnly(r);
  put(out, 'token', str(r, 'token'));
  put(out, 'type', int32(r, 'type'));
  put(out, 'track', trackBatches(r));
  put(out, 'untrack', strList(r, 'untrack'));
  return out;
}

function withData<T extends { data?: Raw }>(out: T, r: Obj): T {
  const b = raw(r);
  if (b !== undefined) out.data = b;
  return out;
}

/** Request fields in Centrifugo's detection order (docs/protocol.md §1.1 rule 6). */
const REQUEST_FIELDS = [
  'connect',
  'subscribe',
  'unsubscribe',
  'publish',
  'presence',
  'presence_stats',
  'history',
  'rpc',
  'send',
  'refresh',
  'sub_refresh',
] as const;

function toCommand(kind: (typeof REQUEST_FIELDS)[number], id: number, r: Obj): Command {
  switch (kind) {
    case 'connect':
      return { kind, id, connect: connectRequest(r) };
    case 'subscribe':
      return { kind, id, subscribe: subscribeRequest(r) };
    case 'unsubscribe':
      return { kind, id, unsubscribe: channelOnly(r) };
    case 'publish':
      return { kind, id, publish: publishRequest(r) };
    case 'presence':
      return { kind, id, presence: channelOnly(r) };
    case 'presence_stats':
      return { kind, id, presence_stats: channelOnly(r) };
    case 'history':
      return { kind, id, history: historyRequest(r) };
    case 'rpc': {
      const rpc: RpcRequest = withData({}, r);
      put(rpc, 'method', str(r, 'method'));
      return { kind, id, rpc };
    }
    case 'send':
      return { kind, id, send: withData({}, r) };
    case 'refresh':
      return { kind, id, refresh: { token: str(r, 'token') ?? '' } };
    case 'sub_refresh':
      return { kind, id, sub_refresh: subRefreshRequest(r) };
  }
}

function commandOf(v: unknown): Command {
  if (!isObj(v)) fail('command must be a JSON object');
  const id = uint32(v, 'id') ?? 0;
  obj(v, 'ping'); // validated only: a command with just `ping` is a pong (id 0) or unknown (id > 0)
  let found: Command | undefined;
  for (const kind of REQUEST_FIELDS) {
    const r = obj(v, kind); // every present request must be an object, even ones that are not used
    if (r !== undefined && found === undefined) found = toCommand(kind, id, r);
  }
  if (found !== undefined) return found;
  return id === 0 ? { kind: 'pong', id: 0 } : { kind: 'unknown', id };
}

function decodeLine(line: string, bytes: Uint8Array, start: number, end: number): Command {
  if (line.includes('"data"')) return commandOf(parseBytes(bytes, start, end));
  const v: unknown = JSON.parse(line);
  try {
    return commandOf(v);
  } catch (e) {
    if (e instanceof NeedBytes) return commandOf(parseBytes(bytes, start, end));
    throw e;
  }
}

function parseBytes(bytes: Uint8Array, start: number, end: number): unknown {
  const r = parseJson(bytes, start, end, { opaqueKeys: OPAQUE_KEYS, rawDepth: RAW_DEPTH });
  if (!r.ok) fail('malformed JSON');
  return r.value;
}

/** Decode one JSON frame: commands separated by '\n' (one trailing '\n' and '\r\n' endings tolerated). */
export function decodeJsonCommands(frame: Uint8Array): DecodeResult {
  return decodeJsonCommandsFrom(frame, { pos: 0 }, Infinity);
}

/**
 * Incremental form of decodeJsonCommands: up to `max` commands from byte offset `cursor.pos`, which is
 * advanced past them. The frame is done once `cursor.pos >= frame.byteLength` (also after an error).
 * Nesting depth is not limited here, as in Centrifugo: the frame size limit bounds it, and nothing on the
 * path recurses into a payload.
 */
export function decodeJsonCommandsFrom(frame: Uint8Array, cursor: FrameCursor, max: number): DecodeResult {
  const commands: Command[] = [];
  const len = frame.byteLength;
  if (len === 0) {
    cursor.pos = 1;
    return { commands, error: 'empty frame' };
  }
  const end = frame[len - 1] === 0x0a ? len - 1 : len;
  let start = cursor.pos;
  // Common case, a small frame decoded from its start: one decode for the whole frame; when every byte is
  // one character (ASCII, no BOM), string and byte positions coincide and lines are cut from the text.
  const text = start === 0 && len <= WHOLE_FRAME_MAX ? lineDecoder.decode(frame) : undefined;
  if (text !== undefined && text.length === len) {
    while (start <= end && commands.length < max) {
      let nl = text.indexOf('\n', start);
      if (nl === -1 || nl > end) nl = end;
      let lineEnd = nl;
      if (lineEnd > start && text.charCodeAt(lineEnd - 1) === 0x0d) lineEnd--;
      try {
        commands.push(decodeLine(text.slice(start, lineEnd), frame, start, lineEnd));
      } catch (e) {
        cursor.pos = len;
        return { commands, error: e instanceof DecodeFailure ? e.message : 'malformed JSON' };
      }
      start = nl + 1;
    }
    cursor.pos = start;
    return { commands };
  }
  while (start <= end && commands.length < max) {
    const nl = lineEndAt(frame, start, end);
    let lineEnd = nl;
    if (lineEnd > start && frame[lineEnd - 1] === 0x0d) lineEnd--;
    try {
      const line = (start === 0 ? decoder : lineDecoder).decode(frame.subarray(start, lineEnd));
      // The frame's BOM (dropped from the text by `decoder`) is not part of the JSON the spans are cut from.
      const from = start === 0 && hasBom(frame) ? 3 : start;
      commands.push(decodeLine(line, frame, from, lineEnd));
    } catch (e) {
      cursor.pos = len;
      return { commands, error: e instanceof DecodeFailure ? e.message : 'malformed JSON' };
    }
    start = nl + 1;
  }
  cursor.pos = start;
  return { commands };
}

/** Frames up to this size are decoded to text in one go (larger ones line by line, as they are sliced). */
const WHOLE_FRAME_MAX = 64 * 1024;

/** Index of the first '\n' in frame[start, end), or end. */
function lineEndAt(frame: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (frame[i] === 0x0a) return i;
  return end;
}

function hasBom(b: Uint8Array): boolean {
  return b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}
