// JSON output for API responses with raw embedded JSON (docs/protocol.md §6.1: `bytes` fields are raw JSON).
// `RawJson` values are spliced in verbatim; everything else goes through JSON.stringify. Payload bytes are
// never parsed into values: they are written the way Centrifugo's encoding/json writes a json.RawMessage
// (goCompact), so numbers, escapes and key order stay exactly as published (docs/payloads.md).
import { isJsonPayload } from '../protocol/json-scan.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

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
  if (bytes.length > 0 && isJsonPayload(bytes)) return { raw: new RawJson(goCompact(bytes)) };
  return { b64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

const HEX = '0123456789abcdef';

/**
 * Valid JSON text as Go's encoding/json marshals a json.RawMessage: json.Compact with HTML escaping.
 * Whitespace outside strings is dropped; inside strings `<`, `>`, `&`, U+2028 and U+2029 become \u escapes.
 * Nothing else changes: numbers, existing escapes and member order are kept byte for byte.
 */
export function goCompact(b: Uint8Array): string {
  const w = new CompactWriter(b);
  let inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (inString) {
      if (c === 0x22) inString = false;
      else if (c === 0x5c) {
        // The escaped byte is copied with its backslash, so an escaped quote does not end the string.
        w.keep(i);
        i++;
        w.keep(i);
        continue;
      } else if (c === 0x3c || c === 0x3e || c === 0x26) {
        w.escape(i, c);
        continue;
      } else if (c === 0xe2 && b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9)) {
        w.escape(i, b[i + 2] === 0xa8 ? 0x2028 : 0x2029);
        i += 2;
        continue;
      }
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      w.drop(i);
      continue;
    } else if (c === 0x22) inString = true;
    w.keep(i);
  }
  return w.text();
}

/** Output of goCompact: stays a view of the input until the first byte that changes. */
class CompactWriter {
  private out: Uint8Array | undefined;
  private o = 0;
  constructor(private readonly b: Uint8Array) {}

  private start(i: number, extra: number): Uint8Array {
    let out = this.out;
    if (out === undefined) {
      out = new Uint8Array(this.b.length + 64);
      out.set(this.b.subarray(0, i));
      this.o = i;
      this.out = out;
    }
    if (this.o + extra > out.length) {
      const next = new Uint8Array(Math.max(out.length * 2, this.o + extra));
      next.set(out.subarray(0, this.o));
      this.out = out = next;
    }
    return out;
  }

  keep(i: number): void {
    if (this.out !== undefined) this.start(i, 1)[this.o++] = this.b[i] as number;
  }

  drop(i: number): void {
    this.start(i, 0);
  }

  escape(i: number, code: number): void {
    const out = this.start(i, 6);
    out[this.o++] = 0x5c; // \
    out[this.o++] = 0x75; // u
    for (let shift = 12; shift >= 0; shift -= 4) out[this.o++] = HEX.charCodeAt((code >> shift) & 15);
  }

  text(): string {
    return decoder.decode(this.out === undefined ? this.b : this.out.subarray(0, this.o));
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
