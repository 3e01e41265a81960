// Checks a decoded backend answer (JSON from HTTP, a protobuf object from GRPC) and gives it the typed shape of
// types.ts. Payload members (data, info, meta) arrive as bytes from both decoders. A member of the wrong type
// makes the whole answer undecodable (ProxyCallError "decode"), as Go's decoder refuses it in Centrifugo.
import {
  ProxyCallError,
  type ConnectProxyResult,
  type ProxyDisconnectBody,
  type ProxyErrorBody,
  type ProxyKind,
  type ProxyMessages,
  type ProxyOverride,
  type ProxyResponse,
  type ProxySubscribeOptions,
  type PublishProxyResult,
  type RefreshProxyResult,
  type RpcProxyResult,
  type MapPublishProxyResult,
  type MapRemoveProxyResult,
  type SharedPollRefreshItem,
  type SharedPollRefreshProxyResult,
  type SubRefreshProxyResult,
} from './types.js';

type Obj = Record<string, unknown>;

const textDecoder = new TextDecoder();

function bad(what: string): never {
  throw new ProxyCallError('decode', `bad ${what} in proxy response`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** An optional object member (null = absent). */
function obj(o: Obj, key: string): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return isObj(v) ? v : bad(key);
}

function str(o: Obj, key: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : bad(key);
}

function bool(o: Obj, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  return typeof v === 'boolean' ? v : bad(key);
}

function int(o: Obj, key: string, min: number): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) bad(key);
  return v;
}

/** Payload bytes; empty counts as absent (protobuf cannot tell them apart). */
function bytes(o: Obj, key: string): Uint8Array | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof Uint8Array)) bad(key);
  return v.length > 0 ? v : undefined;
}

function strings(o: Obj, key: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(key);
  return v;
}

function stringMap(o: Obj, key: string): Record<string, string> {
  const m = obj(o, key);
  if (m === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    // A tag named like a payload member (data, info, meta) comes out of the JSON decoder as its raw bytes.
    const s = v instanceof Uint8Array ? (JSON.parse(textDecoder.decode(v)) as unknown) : v;
    if (typeof s !== 'string') bad(key);
    out[k] = s;
  }
  return out;
}

/** Sets `out[key]` only when the payload is present (exactOptionalPropertyTypes). */
function withBytes<T extends object, K extends string>(out: T, key: K, v: Uint8Array | undefined): T {
  if (v !== undefined) (out as Record<string, unknown>)[key] = v;
  return out;
}

const OVERRIDE_KEYS = ['presence', 'join_leave', 'force_recovery', 'force_positioning', 'force_push_join_leave'] as const;

function override(o: Obj): ProxyOverride | undefined {
  const ov = obj(o, 'override');
  if (ov === undefined) return undefined;
  const out: ProxyOverride = {};
  for (const k of OVERRIDE_KEYS) {
    const b = obj(ov, k);
    if (b !== undefined) out[k] = bool(b, 'value');
  }
  return out;
}

function subscribeOptions(o: Obj): ProxySubscribeOptions {
  const out: ProxySubscribeOptions = {
    expire_at: int(o, 'expire_at', Number.MIN_SAFE_INTEGER),
    b64info: str(o, 'b64info'),
    b64data: str(o, 'b64data'),
  };
  withBytes(out, 'info', bytes(o, 'info'));
  withBytes(out, 'data', bytes(o, 'data'));
  const ov = override(o);
  if (ov !== undefined) out.override = ov;
  return out;
}

function connectResult(o: Obj): ConnectProxyResult {
  const subs: Record<string, ProxySubscribeOptions> = {};
  const m = obj(o, 'subs');
  if (m !== undefined) {
    for (const [ch, v] of Object.entries(m)) {
      if (v === null) continue;
      if (!isObj(v)) bad('subs');
      subs[ch] = subscribeOptions(v);
    }
  }
  const out: ConnectProxyResult = {
    user: str(o, 'user'),
    expire_at: int(o, 'expire_at', Number.MIN_SAFE_INTEGER),
    b64info: str(o, 'b64info'),
    b64data: str(o, 'b64data'),
    channels: strings(o, 'channels'),
    subs,
  };
  withBytes(out, 'info', bytes(o, 'info'));
  withBytes(out, 'data', bytes(o, 'data'));
  withBytes(out, 'meta', bytes(o, 'meta'));
  return out;
}

function refreshResult(o: Obj): RefreshProxyResult {
  const out: RefreshProxyResult = {
    expired: bool(o, 'expired'),
    expire_at: int(o, 'expire_at', Number.MIN_SAFE_INTEGER),
    b64info: str(o, 'b64info'),
  };
  withBytes(out, 'info', bytes(o, 'info'));
  withBytes(out, 'meta', bytes(o, 'meta'));
  return out;
}

function publishResult(o: Obj): PublishProxyResult {
  const out: PublishProxyResult = {
    b64data: str(o, 'b64data'),
    skip_history: bool(o, 'skip_history'),
    tags: stringMap(o, 'tags'),
    idempotency_key: str(o, 'idempotency_key'),
    delta: bool(o, 'delta'),
  };
  return withBytes(out, 'data', bytes(o, 'data'));
}

function rpcResult(o: Obj): RpcProxyResult {
  return withBytes<RpcProxyResult, 'data'>({ b64data: str(o, 'b64data') }, 'data', bytes(o, 'data'));
}

function subRefreshResult(o: Obj): SubRefreshProxyResult {
  const out: SubRefreshProxyResult = {
    expired: bool(o, 'expired'),
    expire_at: int(o, 'expire_at', Number.MIN_SAFE_INTEGER),
    b64info: str(o, 'b64info'),
  };
  return withBytes(out, 'info', bytes(o, 'info'));
}

function sharedPollRefreshResult(o: Obj): SharedPollRefreshProxyResult {
  const v = o['items'];
  if (v !== undefined && v !== null && !Array.isArray(v)) bad('items');
  const items = ((v ?? []) as unknown[]).map((x): SharedPollRefreshItem => {
    if (!isObj(x)) bad('items');
    const item: SharedPollRefreshItem = { key: str(x, 'key'), version: int(x, 'version', 0), removed: bool(x, 'removed') };
    withBytes(item, 'data', bytes(x, 'data'));
    return withBytes(item, 'prev_data', bytes(x, 'prev_data'));
  });
  return { items, epoch: str(o, 'epoch') };
}

function mapPublishResult(o: Obj): MapPublishProxyResult {
  const out: MapPublishProxyResult = {
    key: str(o, 'key'),
    b64data: str(o, 'b64data'),
    tags: stringMap(o, 'tags'),
    key_mode: str(o, 'key_mode'),
    idempotency_key: str(o, 'idempotency_key'),
    delta: bool(o, 'delta'),
    version: int(o, 'version', 0),
    version_epoch: str(o, 'version_epoch'),
  };
  return withBytes(out, 'data', bytes(o, 'data'));
}

function mapRemoveResult(o: Obj): MapRemoveProxyResult {
  return { key: str(o, 'key'), tags: stringMap(o, 'tags'), idempotency_key: str(o, 'idempotency_key') };
}

const RESULT_DECODERS: { readonly [K in ProxyKind]: (o: Obj) => ProxyMessages[K]['res'] } = {
  connect: connectResult,
  refresh: refreshResult,
  subscribe: subscribeOptions,
  publish: publishResult,
  sub_refresh: subRefreshResult,
  rpc: rpcResult,
  shared_poll_refresh: sharedPollRefreshResult,
  map_publish: mapPublishResult,
  map_remove: mapRemoveResult,
};

function errorBody(o: Obj): ProxyErrorBody {
  return { code: int(o, 'code', 0), message: str(o, 'message'), temporary: bool(o, 'temporary') };
}

function disconnectBody(o: Obj): ProxyDisconnectBody {
  return { code: int(o, 'code', 0), reason: str(o, 'reason') };
}

/** A decoded answer (`null` = an empty one, like Go's decoder) checked and typed for `kind`. */
export function decodeResponse<K extends ProxyKind>(kind: K, value: unknown): ProxyResponse<K> {
  if (value === null) return {};
  if (!isObj(value)) bad('body');
  const out: ProxyResponse<K> = {};
  const result = obj(value, 'result');
  if (result !== undefined) out.result = RESULT_DECODERS[kind](result);
  const error = obj(value, 'error');
  if (error !== undefined) out.error = errorBody(error);
  const disconnect = obj(value, 'disconnect');
  if (disconnect !== undefined) out.disconnect = disconnectBody(disconnect);
  return out;
}
