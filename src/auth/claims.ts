// Maps a verified JWT payload (plain JSON object) onto the typed claims of auth/types.ts (docs/protocol.md §3.2–3.3).
// Raw JSON values (info, data) keep the bytes they have in the token; b64info/b64data (std base64) win over them.
// Any claim of the wrong type ⇒ InvalidTokenError.

import {
  InvalidTokenError,
  type BoolOverride,
  type ConnectTokenClaims,
  type SubscribeTokenClaims,
  type TokenSubOptions,
} from './types.js';

export type JsonObject = Record<string, unknown>;

const encoder = new TextEncoder();
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const OVERRIDE_KEYS = ['presence', 'join_leave', 'force_push_join_leave', 'force_recovery', 'force_positioning'] as const;

function invalid(reason: string): never {
  throw new InvalidTokenError(reason);
}

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function optString(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') invalid(`claim "${key}" must be a string`);
  return v;
}

function optNumber(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(`claim "${key}" must be a number`);
  return v;
}

/** `raw` as JSON text bytes, or `b64` decoded (std base64, precedence); undefined when neither is present. */
function bytesClaim(o: JsonObject, raw: string, b64: string): Uint8Array | undefined {
  const encoded = optString(o, b64);
  if (encoded !== undefined) {
    if (!STD_BASE64.test(encoded)) invalid(`claim "${b64}" is not valid base64`);
    return new Uint8Array(Buffer.from(encoded, 'base64'));
  }
  const v = o[raw];
  if (v === undefined || v === null) return undefined;
  // The claim's exact bytes: jwt.ts parses the payload with these claims opaque, as Centrifugo keeps them.
  if (v instanceof Uint8Array) return v;
  return encoder.encode(JSON.stringify(v));
}

function overrideClaim(v: unknown): BoolOverride | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) invalid('claim "override" must be an object');
  const out: BoolOverride = {};
  for (const key of OVERRIDE_KEYS) {
    const item = v[key];
    if (item === undefined || item === null) continue;
    if (!isObject(item) || typeof item['value'] !== 'boolean') invalid(`override.${key} must be {"value": boolean}`);
    out[key] = item['value'];
  }
  return out;
}

function subOptions(channel: string, v: unknown): TokenSubOptions {
  if (!isObject(v)) invalid(`subs["${channel}"] must be an object`);
  const out: TokenSubOptions = {};
  const info = bytesClaim(v, 'info', 'b64info');
  if (info !== undefined) out.info = info;
  const data = bytesClaim(v, 'data', 'b64data');
  if (data !== undefined) out.data = data;
  const override = overrideClaim(v['override']);
  if (override !== undefined) out.override = override;
  return out;
}

/** Reads a simple dotted path ("user.id") from the payload; numbers are converted to their decimal text. */
export function userIdAt(payload: JsonObject, path: string): string {
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (!isObject(cur)) return '';
    cur = cur[part];
  }
  if (cur === undefined || cur === null) return '';
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' && Number.isFinite(cur)) return String(cur);
  return invalid(`claim "${path}" must be a string`);
}

function userId(payload: JsonObject, userIdClaim: string): string {
  return userIdClaim !== '' ? userIdAt(payload, userIdClaim) : (optString(payload, 'sub') ?? '');
}

export function connectClaims(payload: JsonObject, userIdClaim: string): ConnectTokenClaims {
  if (payload['channel'] !== undefined) invalid('claim "channel" is not allowed in a connection token');
  const out: ConnectTokenClaims = { sub: userId(payload, userIdClaim) };
  const exp = optNumber(payload, 'exp');
  if (exp !== undefined) out.exp = exp;
  const iat = optNumber(payload, 'iat');
  if (iat !== undefined) out.iat = iat;
  const info = bytesClaim(payload, 'info', 'b64info');
  if (info !== undefined) out.info = info;
  const channels = payload['channels'];
  if (channels !== undefined && channels !== null) {
    if (!Array.isArray(channels) || !channels.every((c): c is string => typeof c === 'string')) {
      invalid('claim "channels" must be an array of strings');
    }
    out.channels = channels;
  }
  const subs = payload['subs'];
  if (subs !== undefined && subs !== null) {
    if (!isObject(subs)) invalid('claim "subs" must be an object');
    const map: Record<string, TokenSubOptions> = {};
    for (const [ch, v] of Object.entries(subs)) map[ch] = subOptions(ch, v);
    out.subs = map;
  }
  if (payload['meta'] !== undefined) out.meta = payload['meta'];
  const expireAt = optNumber(payload, 'expire_at');
  if (expireAt !== undefined) out.expire_at = expireAt;
  return out;
}

export function subscribeClaims(payload: JsonObject, userIdClaim: string): SubscribeTokenClaims {
  const channel = optString(payload, 'channel');
  if (channel === undefined || channel === '') invalid('claim "channel" is required in a subscription token');
  const out: SubscribeTokenClaims = { sub: userId(payload, userIdClaim), channel };
  const exp = optNumber(payload, 'exp');
  if (exp !== undefined) out.exp = exp;
  const iat = optNumber(payload, 'iat');
  if (iat !== undefined) out.iat = iat;
  const info = bytesClaim(payload, 'info', 'b64info');
  if (info !== undefined) out.info = info;
  const data = bytesClaim(payload, 'data', 'b64data');
  if (data !== undefined) out.data = data;
  const override = overrideClaim(payload['override']);
  if (override !== undefined) out.override = override;
  const expireAt = optNumber(payload, 'expire_at');
  if (expireAt !== undefined) out.expire_at = expireAt;
  const client = optString(payload, 'client');
  if (client !== undefined) out.client = client;
  return out;
}
