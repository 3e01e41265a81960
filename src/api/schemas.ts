// Typed request decoding for the server HTTP API (docs/protocol.md §6.3). Only types are checked here: a field of
// the wrong JSON type throws SchemaError (⇒ HTTP 400), as a typed decoder would. Semantic checks (missing
// channel ⇒ 107, bad base64 ⇒ 107) belong to the executor. `null` means "absent"; unknown fields are ignored.
import type { StreamPosition } from '../protocol/types.js';
import { apiRaw } from './decode.js';
import { SchemaError } from './errors.js';
import { parseMapCommand, type MapApiCommand } from './map-schemas.js';

type Obj = Record<string, unknown>;
export type OverrideKey = 'presence' | 'join_leave' | 'force_recovery' | 'force_positioning' | 'force_push_join_leave';

export interface PublishPayload {
  /** Raw JSON text bytes of `data`. */
  data?: Uint8Array;
  b64data?: string;
  skip_history: boolean;
  tags?: Record<string, string>;
  idempotency_key: string;
  delta: boolean;
}
export interface PublishReq extends PublishPayload {
  channel: string;
}
export interface BroadcastReq extends PublishPayload {
  channels: string[];
}
export interface TargetReq {
  user: string;
  client: string;
  session: string;
}
export interface SubscribeReq extends TargetReq {
  channel: string;
  info?: Uint8Array;
  b64info?: string;
  data?: Uint8Array;
  b64data?: string;
  recover_since?: StreamPosition;
  expire_at: number;
  override?: Partial<Record<OverrideKey, boolean>>;
}
export interface UnsubscribeReq extends TargetReq {
  channel: string;
}
export interface DisconnectReq extends TargetReq {
  whitelist: string[];
  disconnect?: { code: number; reason: string };
}
export interface RefreshReq extends TargetReq {
  expired: boolean;
  expire_at: number;
  info?: Uint8Array;
  b64info?: string;
}
export interface ChannelReq {
  channel: string;
}
export interface HistoryReq extends ChannelReq {
  limit: number;
  since?: StreamPosition;
  reverse: boolean;
}
export interface ChannelsReq {
  pattern: string;
}
export interface SharedPollPublishReq {
  channel: string;
  key: string;
  data?: Uint8Array;
  b64data?: string;
  version: number;
  epoch: string;
}
export interface RpcReq {
  method: string;
  params?: Uint8Array;
}

export type ApiCommand =
  | { method: 'publish'; req: PublishReq }
  | { method: 'broadcast'; req: BroadcastReq }
  | { method: 'subscribe'; req: SubscribeReq }
  | { method: 'unsubscribe'; req: UnsubscribeReq }
  | { method: 'disconnect'; req: DisconnectReq }
  | { method: 'refresh'; req: RefreshReq }
  | { method: 'presence'; req: ChannelReq }
  | { method: 'presence_stats'; req: ChannelReq }
  | { method: 'history'; req: HistoryReq }
  | { method: 'history_remove'; req: ChannelReq }
  | { method: 'channels'; req: ChannelsReq }
  | { method: 'info'; req: Record<string, never> }
  | { method: 'rpc'; req: RpcReq }
  | MapApiCommand
  | { method: 'shared_poll_publish'; req: SharedPollPublishReq };

export type CommandMethod = ApiCommand['method'];
export type ApiMethod = CommandMethod | 'batch';

/** The map subscription methods (map-schemas.ts decodes them). */
export const MAP_METHODS = ['map_publish', 'map_remove', 'map_read_state', 'map_read_stream', 'map_stats', 'map_clear'] as const;

/** Method names in the order a batch command object is inspected. */
export const COMMAND_METHODS: readonly CommandMethod[] = [
  'publish',
  'broadcast',
  'subscribe',
  'unsubscribe',
  'disconnect',
  'presence',
  'presence_stats',
  'history',
  'history_remove',
  'info',
  'rpc',
  'refresh',
  'channels',
  ...MAP_METHODS,
  'shared_poll_publish',
];
export const API_METHODS: readonly ApiMethod[] = ['batch', ...COMMAND_METHODS];

export function isCommandMethod(m: string): m is CommandMethod {
  return (COMMAND_METHODS as readonly string[]).includes(m);
}

/** A batch item: a command, `null` (⇒ 107) or an object with no known method key (⇒ 104). */
export type BatchItem = ApiCommand | null | { method: 'unknown' };
export interface BatchReq {
  commands: BatchItem[];
  parallel: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Field readers

function fail(field: string): never {
  throw new SchemaError(`invalid field ${field}`);
}
export function object(v: unknown, field: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(field);
  return v as Obj;
}
export function str(o: Obj, k: string): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(k);
  return v;
}
export function optStr(o: Obj, k: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(k);
  return v;
}
export function bool(o: Obj, k: string): boolean {
  const v = o[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') fail(k);
  return v;
}
export function int(o: Obj, k: string, min: number, max: number): number {
  const v = o[k];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(k);
  return v;
}
/** A payload member as the bytes received (parseApiJson kept them); JSON null counts as absent. */
export function raw(o: Obj, k: 'data' | 'info' | 'params'): Uint8Array | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return apiRaw(o, k) ?? fail(k);
}
function strArray(o: Obj, k: string): string[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(k);
  return v.map((x: unknown) => {
    if (typeof x !== 'string') fail(k);
    return x;
  });
}
export function strMap(o: Obj, k: string): Record<string, string> | undefined {
  const m = object(o[k], k);
  if (m === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [key, val] of Object.entries(m)) {
    if (typeof val !== 'string') fail(k);
    out[key] = val;
  }
  return out;
}
function position(o: Obj, k: string): StreamPosition | undefined {
  const p = object(o[k], k);
  if (p === undefined) return undefined;
  return { offset: int(p, 'offset', 0, Number.MAX_SAFE_INTEGER), epoch: str(p, 'epoch') };
}

const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;

// ---------------------------------------------------------------------------------------------------
// Per-method decoders

function setOpt<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function publishPayload(o: Obj): PublishPayload {
  const p: PublishPayload = {
    skip_history: bool(o, 'skip_history'),
    idempotency_key: str(o, 'idempotency_key'),
    delta: bool(o, 'delta'),
  };
  setOpt(p, 'data', raw(o, 'data'));
  setOpt(p, 'b64data', optStr(o, 'b64data'));
  setOpt(p, 'tags', strMap(o, 'tags'));
  return p;
}
function target(o: Obj): TargetReq {
  return { user: str(o, 'user'), client: str(o, 'client'), session: str(o, 'session') };
}
function override(o: Obj): Partial<Record<OverrideKey, boolean>> | undefined {
  const ov = object(o['override'], 'override');
  if (ov === undefined) return undefined;
  const out: Partial<Record<OverrideKey, boolean>> = {};
  for (const key of ['presence', 'join_leave', 'force_recovery', 'force_positioning', 'force_push_join_leave'] as const) {
    const w = object(ov[key], `override.${key}`);
    if (w !== undefined) out[key] = bool(w, 'value');
  }
  return out;
}

/** Decodes the request of one method from a body parsed by parseApiJson. Throws SchemaError on wrong types. */
export function parseCommand(method: CommandMethod, body: unknown): ApiCommand {
  const o = object(body, 'body') ?? {};
  switch (method) {
    case 'publish':
      return { method, req: { channel: str(o, 'channel'), ...publishPayload(o) } };
    case 'broadcast':
      return { method, req: { channels: strArray(o, 'channels'), ...publishPayload(o) } };
    case 'subscribe': {
      const req: SubscribeReq = { ...target(o), channel: str(o, 'channel'), expire_at: int(o, 'expire_at', 0, Number.MAX_SAFE_INTEGER) };
      setOpt(req, 'info', raw(o, 'info'));
      setOpt(req, 'b64info', optStr(o, 'b64info'));
      setOpt(req, 'data', raw(o, 'data'));
      setOpt(req, 'b64data', optStr(o, 'b64data'));
      setOpt(req, 'recover_since', position(o, 'recover_since'));
      setOpt(req, 'override', override(o));
      return { method, req };
    }
    case 'unsubscribe':
      return { method, req: { ...target(o), channel: str(o, 'channel') } };
    case 'disconnect': {
      const req: DisconnectReq = { ...target(o), whitelist: strArray(o, 'whitelist') };
      const d = object(o['disconnect'], 'disconnect');
      if (d !== undefined) req.disconnect = { code: int(d, 'code', 0, UINT32_MAX), reason: str(d, 'reason') };
      return { method, req };
    }
    case 'refresh': {
      const req: RefreshReq = { ...target(o), expired: bool(o, 'expired'), expire_at: int(o, 'expire_at', 0, Number.MAX_SAFE_INTEGER) };
      setOpt(req, 'info', raw(o, 'info'));
      setOpt(req, 'b64info', optStr(o, 'b64info'));
      return { method, req };
    }
    case 'presence':
    case 'presence_stats':
    case 'history_remove':
      return { method, req: { channel: str(o, 'channel') } };
    case 'history': {
      const req: HistoryReq = { channel: str(o, 'channel'), limit: int(o, 'limit', -INT32_MAX - 1, INT32_MAX), reverse: bool(o, 'reverse') };
      setOpt(req, 'since', position(o, 'since'));
      return { method, req };
    }
    case 'channels':
      return { method, req: { pattern: str(o, 'pattern') } };
    case 'info':
      return { method, req: {} };
    case 'rpc': {
      const req: RpcReq = { method: str(o, 'method') };
      setOpt(req, 'params', raw(o, 'params'));
      return { method, req };
    }
    case 'map_publish':
    case 'map_remove':
    case 'map_read_state':
    case 'map_read_stream':
    case 'map_stats':
    case 'map_clear':
      return parseMapCommand(method, o);
    case 'shared_poll_publish': {
      const req: SharedPollPublishReq = {
        channel: str(o, 'channel'),
        key: str(o, 'key'),
        version: int(o, 'version', 0, Number.MAX_SAFE_INTEGER),
        epoch: str(o, 'epoch'),
      };
      setOpt(req, 'data', raw(o, 'data'));
      setOpt(req, 'b64data', optStr(o, 'b64data'));
      return { method, req };
    }
  }
}

/** Decodes a batch request; each command object is keyed by its method name. */
export function parseBatch(body: unknown): BatchReq {
  const o = object(body, 'body') ?? {};
  const list = o['commands'];
  const commands: BatchItem[] = [];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) fail('commands');
    for (const item of list as unknown[]) commands.push(parseBatchItem(item));
  }
  return { commands, parallel: bool(o, 'parallel') };
}

/** One element of a batch's `commands`: keyed by its method name; `null` ⇒ null; no known key ⇒ unknown. */
export function parseBatchItem(item: unknown): BatchItem {
  const c = object(item, 'commands[]');
  if (c === undefined) return null;
  const method = COMMAND_METHODS.find((m) => c[m] !== undefined && c[m] !== null);
  return method === undefined ? { method: 'unknown' } : parseCommand(method, c[method]);
}

/** The `parallel` member of a batch body (null ⇒ false). */
export function parseParallel(v: unknown): boolean {
  return bool({ parallel: v }, 'parallel');
}
