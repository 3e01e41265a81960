// Request decoding of the map subscription methods of the server API (docs/map-subscriptions.md), with the field
// readers of schemas.ts: a field of the wrong JSON type throws SchemaError (⇒ HTTP 400); semantic checks (empty
// channel or key ⇒ 107, bad base64 ⇒ 107) are the executor's.
import { SchemaError } from './errors.js';
import { bool, int, optStr, raw, str, strMap, type MAP_METHODS } from './schemas.js';

type Obj = Record<string, unknown>;
export type MapMethod = (typeof MAP_METHODS)[number];

export interface MapPublishReq {
  channel: string;
  key: string;
  data?: Uint8Array;
  b64data?: string;
  tags?: Record<string, string>;
  idempotency_key: string;
  delta: boolean;
  version: number;
  version_epoch: string;
  /** '', if_new or if_exists; anything else is 107 (the executor's check). */
  key_mode: string;
}
export interface MapRemoveReq {
  channel: string;
  key: string;
  idempotency_key: string;
}
export interface MapReadStateReq {
  channel: string;
  cursor: string;
  limit: number;
  key: string;
  revision_offset: number;
  revision_epoch: string;
}
export interface MapReadStreamReq {
  channel: string;
  since_offset: number;
  since_epoch: string;
  limit: number;
  reverse: boolean;
}

export type MapApiCommand =
  | { method: 'map_publish'; req: MapPublishReq }
  | { method: 'map_remove'; req: MapRemoveReq }
  | { method: 'map_read_state'; req: MapReadStateReq }
  | { method: 'map_read_stream'; req: MapReadStreamReq }
  | { method: 'map_stats' | 'map_clear'; req: { channel: string } };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export function parseMapCommand(method: MapMethod, o: Obj): MapApiCommand {
  const channel = str(o, 'channel');
  switch (method) {
    case 'map_publish': {
      const req: MapPublishReq = {
        channel,
        key: str(o, 'key'),
        idempotency_key: str(o, 'idempotency_key'),
        delta: bool(o, 'delta'),
        version: int(o, 'version', 0, Number.MAX_SAFE_INTEGER),
        version_epoch: str(o, 'version_epoch'),
        key_mode: str(o, 'key_mode'),
      };
      const data = raw(o, 'data');
      if (data !== undefined) req.data = data;
      const b64 = optStr(o, 'b64data');
      if (b64 !== undefined) req.b64data = b64;
      const tags = strMap(o, 'tags');
      if (tags !== undefined) req.tags = tags;
      return { method, req };
    }
    case 'map_remove':
      return { method, req: { channel, key: str(o, 'key'), idempotency_key: str(o, 'idempotency_key') } };
    case 'map_read_state':
      return {
        method,
        req: {
          channel,
          cursor: str(o, 'cursor'),
          limit: int(o, 'limit', INT32_MIN, INT32_MAX),
          key: str(o, 'key'),
          revision_offset: int(o, 'revision_offset', 0, Number.MAX_SAFE_INTEGER),
          revision_epoch: str(o, 'revision_epoch'),
        },
      };
    case 'map_read_stream':
      return {
        method,
        req: {
          channel,
          since_offset: int(o, 'since_offset', 0, Number.MAX_SAFE_INTEGER),
          since_epoch: str(o, 'since_epoch'),
          limit: int(o, 'limit', INT32_MIN, INT32_MAX),
          reverse: bool(o, 'reverse'),
        },
      };
    case 'map_stats':
    case 'map_clear':
      return { method, req: { channel } };
    default:
      throw new SchemaError(`unknown method ${String(method)}`);
  }
}
