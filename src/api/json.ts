// JSON output for API responses with raw embedded JSON (docs/protocol.md §6.1: `bytes` fields are raw JSON).
// `RawJson` values are spliced in verbatim; everything else goes through JSON.stringify.

const decoder = new TextDecoder();

export class RawJson {
  constructor(readonly text: string) {}
}

export type JsonOut =
  | null
  | boolean
  | number
  | string
  | RawJson
  | readonly JsonOut[]
  | { readonly [key: string]: JsonOut | undefined };

export type JsonObject = { readonly [key: string]: JsonOut | undefined };

/** Payload bytes as an API value: raw JSON when the bytes are JSON text, else a base64 string. */
export function rawOrBase64(bytes: Uint8Array): { raw: RawJson } | { b64: string } {
  const text = decoder.decode(bytes);
  try {
    JSON.parse(text);
    return { raw: new RawJson(text) };
  } catch {
    return { b64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  }
}

/** Raw JSON field value; non-JSON bytes are emitted as a base64 JSON string so the output stays valid. */
export function rawField(bytes: Uint8Array): RawJson | string {
  const r = rawOrBase64(bytes);
  return 'raw' in r ? r.raw : r.b64;
}

export function stringifyJson(value: JsonOut): string {
  if (value instanceof RawJson) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const arr = value as readonly JsonOut[];
    let s = '[';
    for (let i = 0; i < arr.length; i++) {
      if (i > 0) s += ',';
      s += stringifyJson(arr[i] ?? null);
    }
    return `${s}]`;
  }
  let s = '{';
  let first = true;
  for (const [k, v] of Object.entries(value as JsonObject)) {
    if (v === undefined) continue;
    if (!first) s += ',';
    first = false;
    s += `${JSON.stringify(k)}:${stringifyJson(v)}`;
  }
  return `${s}}`;
}
