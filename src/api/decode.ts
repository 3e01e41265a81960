// Decoding of server API request bodies (docs/protocol.md §6.1): one JSON text per body (per line for the legacy
// endpoint), parsed from the bytes so that payload fields (`data`, `info`, `params`) stay the exact bytes
// received (docs/payloads.md). Nesting deeper than Go's encoding/json allows (10000 levels, the body's
// own object included) is refused like malformed JSON, with 400, as Centrifugo does.
import { parseJson, rawSpan } from '../protocol/json-scan.js';

/** Centrifugo decodes API bodies with Go's encoding/json, whose scanner refuses more than 10000 levels. */
export const API_MAX_DEPTH = 10_000;

/**
 * Payload members of API requests; batch items put them at depth 4 (body → commands → item → method).
 * `data` and `params` become their bytes (no value is built); `info` is also a batch method name, so its
 * value is built and its bytes are kept beside it (rawSpan).
 */
const API_OPAQUE_KEYS: ReadonlySet<string> = new Set(['data', 'params']);
const API_RAW_KEYS: ReadonlySet<string> = new Set(['info']);
/** The legacy form wraps each request as `{"method":…,"params":{…}}`: there `params` must stay a value. */
const LEGACY_OPAQUE_KEYS: ReadonlySet<string> = new Set(['data']);
const LEGACY_RAW_KEYS: ReadonlySet<string> = new Set(['info', 'params']);

export type BodyParse = { ok: true; value: unknown } | { ok: false; reason: 'syntax' | 'depth' };

/** Parses b[start, end) as one API request JSON text (`legacy`: one line of the legacy endpoint). */
export function parseApiJson(b: Uint8Array, start = 0, end = b.length, legacy = false): BodyParse {
  const r = parseJson(b, start, end, {
    maxDepth: API_MAX_DEPTH,
    rawKeys: legacy ? LEGACY_RAW_KEYS : API_RAW_KEYS,
    opaqueKeys: legacy ? LEGACY_OPAQUE_KEYS : API_OPAQUE_KEYS,
    rawDepth: 4,
  });
  return r.ok ? { ok: true, value: r.value } : { ok: false, reason: r.error };
}

/**
 * Parses the comma-separated JSON values b[start, end) (a run of batch items, or one member value of the
 * batch body) as the elements of an array. `depthAbove` containers enclose them in the body (the body's
 * object and the `commands` array: 2), so the depth limit still counts from the body.
 */
export function parseApiJsonItems(b: Uint8Array, start: number, end: number, depthAbove: number): unknown[] | undefined {
  const wrapped = new Uint8Array(end - start + 2);
  wrapped[0] = 0x5b; // [
  wrapped.set(b.subarray(start, end), 1);
  wrapped[wrapped.length - 1] = 0x5d; // ]
  const r = parseJson(wrapped, 0, wrapped.length, {
    maxDepth: API_MAX_DEPTH - depthAbove + 1,
    rawKeys: API_RAW_KEYS,
    opaqueKeys: API_OPAQUE_KEYS,
    rawDepth: 5 - depthAbove,
  });
  return r.ok ? (r.value as unknown[]) : undefined;
}

/** The exact bytes of a payload member of an object parsed by parseApiJson (undefined when absent or null). */
export function apiRaw(o: Record<string, unknown>, key: 'data' | 'info' | 'params'): Uint8Array | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return v instanceof Uint8Array ? v : rawSpan(o, key);
}
