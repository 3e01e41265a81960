// The HTTP proxies' JSON: requests written member by member in Centrifugo's order with payload bytes spliced in
// as raw JSON (never parsed), answers parsed with payload members kept as their exact bytes.
import { isJsonPayload, parseJson } from '../protocol/json-scan.js';
import { decodeResponse } from './decode.js';
import { ProxyCallError, type ProxyKind, type ProxyResponse } from './types.js';

const encoder = new TextEncoder();
const PAYLOAD_KEYS: ReadonlySet<string> = new Set(['data', 'info', 'meta', 'prev_data']);
/** Go's encoding/json refuses deeper documents. */
const MAX_DEPTH = 10_000;

/**
 * One request object as JSON bytes. Members keep their insertion order; empty strings, empty lists and absent
 * values are left out (Go's omitempty), except `user`, which Centrifugo always writes. A payload that is not JSON
 * text cannot be sent as raw JSON: ProxyCallError "encode" (a protobuf client's binary data needs binary_encoding).
 */
export function encodeRequest(req: object): Uint8Array {
  const parts: Uint8Array[] = [];
  let text = '{';
  let first = true;
  const flush = (): void => {
    parts.push(encoder.encode(text));
    text = '';
  };
  for (const [key, value] of Object.entries(req) as Array<[string, unknown]>) {
    if (value === undefined) continue;
    if (value === '' && key !== 'user') continue;
    if ((Array.isArray(value) || value instanceof Uint8Array) && value.length === 0) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (value instanceof Uint8Array) {
      if (!isJsonPayload(value)) {
        throw new ProxyCallError('encode', `${key} is not JSON: set binary_encoding for binary payloads`);
      }
      flush();
      parts.push(value);
    } else {
      text += JSON.stringify(value);
    }
  }
  text += '}';
  flush();
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An HTTP answer body decoded for `kind` (ProxyCallError "decode" when it is not the expected JSON). */
export function decodeJsonResponse<K extends ProxyKind>(kind: K, body: Uint8Array): ProxyResponse<K> {
  const r = parseJson(body, 0, body.length, { maxDepth: MAX_DEPTH, opaqueKeys: PAYLOAD_KEYS, rawDepth: 5 });
  if (!r.ok) throw new ProxyCallError('decode', `proxy response is not JSON (${r.error} at ${r.offset})`);
  return decodeResponse(kind, r.value);
}
