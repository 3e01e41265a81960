// A byte-level JSON parser and validator (RFC 8259) that keeps payloads as the bytes they arrived as.
//
// parseJson() builds the same JS values JSON.parse would, but for every object member whose key is in
// `rawKeys` it also records the exact source bytes of the member's value (without the whitespace around
// it, like Go's json.RawMessage); read them back with rawSpan(). Envelope fields are used as JS values,
// payload fields as those bytes, never re-serialised. Both functions are iterative, so any nesting depth
// is handled without a stack overflow; `maxDepth` refuses documents nested deeper (Go's encoding/json
// refuses more than 10000 levels). Runtime-agnostic: Uint8Array and TextDecoder only.

/** Non-fatal (bad UTF-8 becomes U+FFFD, as JSON.parse of decoded text sees it); a U+FEFF inside a string stays. */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Where the raw spans of an object live: a symbol property (invisible to Object.keys, for…in, JSON). */
const SPANS: unique symbol = Symbol('json raw spans');
type WithSpans = { [SPANS]?: Record<string, Uint8Array> };

export type JsonScanError = 'syntax' | 'depth';

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; error: JsonScanError; offset: number };

export interface JsonParseOptions {
  /** Containers (objects and arrays) may nest this deep; one more is a 'depth' error. Default: unlimited. */
  maxDepth?: number;
  /** Object member names whose value bytes are kept (see rawSpan). */
  rawKeys?: ReadonlySet<string>;
  /**
   * Object member names whose value is only checked and kept as bytes: the property's value is then the
   * bytes themselves (a Uint8Array), or null for JSON null; no JS value is built for it.
   */
  opaqueKeys?: ReadonlySet<string>;
  /** Raw and opaque members are kept only in objects at most this deep (the top-level object is 1). Default: 4. */
  rawDepth?: number;
}

/** The source bytes of `o[key]` when `key` was one of the parse's rawKeys (a copy, safe to keep). */
export function rawSpan(o: object, key: string): Uint8Array | undefined {
  return (o as WithSpans)[SPANS]?.[key];
}

/**
 * The once-per-payload decision "is this JSON text?", remembered per byte array. Raw spans are entered
 * when parseJson cuts them (their grammar was just checked), other payloads (protobuf clients, b64data,
 * a broker) on first use; so the fan-out path never scans a payload twice.
 */
const knownJson = new WeakMap<Uint8Array, boolean>();

/** Whether `data` is one JSON text in valid UTF-8 (empty counts as yes: the field is then omitted). */
export function isJsonPayload(data: Uint8Array): boolean {
  if (data.length === 0) return true;
  const known = knownJson.get(data);
  if (known !== undefined) return known;
  const ok = isValidJson(data);
  knownJson.set(data, ok);
  return ok;
}

class ScanFailure extends Error {
  constructor(
    readonly error: JsonScanError,
    readonly offset: number,
  ) {
    super(error);
  }
}

function fail(offset: number, error: JsonScanError = 'syntax'): never {
  throw new ScanFailure(error, offset);
}

function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i] as number;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Set by the scanners below: the index just after the token they read. */
let pos = 0;
/** Set by scanString: whether the string had a byte ≥ 0x80. */
let sawNonAscii = false;

/** Validates the string starting at b[i] === '"'; returns the index of its closing quote. */
function scanString(b: Uint8Array, i: number, end: number): number {
  let j = i + 1;
  for (;;) {
    if (j >= end) fail(j);
    const c = b[j] as number;
    if (c === QUOTE) return j;
    if (c === BACKSLASH) {
      if (j + 1 >= end) fail(j);
      const e = b[j + 1] as number;
      if (e === 0x75) {
        // \uXXXX
        if (j + 6 > end) fail(j);
        for (let k = j + 2; k < j + 6; k++) if (!isHex(b[k] as number)) fail(k);
        j += 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        j += 2;
      } else fail(j);
      continue;
    }
    if (c < 0x20) fail(j);
    if (c >= 0x80) sawNonAscii = true;
    j++;
  }
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Reads the string at b[i] === '"' into a JS string; sets `pos` after the closing quote. */
function readString(b: Uint8Array, i: number, end: number): string {
  const start = i + 1;
  let j = start;
  // Fast path: printable ASCII without escapes.
  for (;;) {
    if (j >= end) fail(j);
    const c = b[j] as number;
    if (c === QUOTE) {
      pos = j + 1;
      return asciiString(b, start, j);
    }
    if (c === BACKSLASH || c < 0x20 || c >= 0x80) break;
    j++;
  }
  const close = scanString(b, i, end);
  pos = close + 1;
  let hasEscape = false;
  for (let k = j; k < close; k++) {
    if (b[k] === BACKSLASH) {
      hasEscape = true;
      break;
    }
  }
  if (!hasEscape) return decoder.decode(b.subarray(start, close));
  // Escapes were validated by scanString; JSON.parse of the literal alone turns them into characters.
  return JSON.parse(decoder.decode(b.subarray(i, close + 1))) as string;
}

/**
 * Short ASCII strings seen recently (keys, channel names): a direct-mapped cache, so a repeated key costs a
 * byte comparison instead of a new string.
 */
const CACHE_SIZE = 256;
const CACHE_MAX_LEN = 24;
const cacheBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(CACHE_SIZE).fill(undefined);
const cacheStrings: string[] = new Array<string>(CACHE_SIZE).fill('');

function asciiString(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n <= CACHE_MAX_LEN) {
    const slot = (n * 31 + (b[start] as number) * 7 + (b[end - 1] as number) * 3 + (b[start + (n >> 1)] as number)) & (CACHE_SIZE - 1);
    const cached = cacheBytes[slot];
    if (cached !== undefined && cached.length === n) {
      let k = 0;
      while (k < n && cached[k] === b[start + k]) k++;
      if (k === n) return cacheStrings[slot] as string;
    }
    let s = '';
    for (let k = start; k < end; k++) s += String.fromCharCode(b[k] as number);
    cacheBytes[slot] = b.slice(start, end);
    cacheStrings[slot] = s;
    return s;
  }
  if (n <= 64) {
    let s = '';
    for (let k = start; k < end; k++) s += String.fromCharCode(b[k] as number);
    return s;
  }
  return decoder.decode(b.subarray(start, end));
}

/** Validates the number at b[i]; sets `pos` after it. */
function scanNumber(b: Uint8Array, i: number, end: number): void {
  let j = i;
  if (b[j] === MINUS) j++;
  if (j >= end) fail(j);
  let c = b[j] as number;
  if (c === ZERO) j++;
  else if (c > ZERO && c <= NINE) {
    j++;
    while (j < end && (b[j] as number) >= ZERO && (b[j] as number) <= NINE) j++;
  } else fail(j);
  if (j < end && b[j] === DOT) {
    j++;
    const digits = j;
    while (j < end && (b[j] as number) >= ZERO && (b[j] as number) <= NINE) j++;
    if (j === digits) fail(j);
  }
  if (j < end && (b[j] === 0x65 || b[j] === 0x45)) {
    j++;
    c = b[j] as number;
    if (c === PLUS || c === MINUS) j++;
    const digits = j;
    while (j < end && (b[j] as number) >= ZERO && (b[j] as number) <= NINE) j++;
    if (j === digits) fail(j);
  }
  pos = j;
}

function readNumber(b: Uint8Array, i: number, end: number): number {
  scanNumber(b, i, end);
  const stop = pos;
  // Short integers: accumulate the digits (exact below 2^53); anything else goes through Number().
  let k = i;
  const neg = b[k] === MINUS;
  if (neg) k++;
  if (stop - k <= 15) {
    let v = 0;
    for (; k < stop; k++) {
      const c = b[k] as number;
      if (c < ZERO || c > NINE) break;
      v = v * 10 + (c - ZERO);
    }
    if (k === stop) return neg ? -v : v;
  }
  let s = '';
  for (let m = i; m < stop; m++) s += String.fromCharCode(b[m] as number);
  return Number(s);
}

function scanLiteral(b: Uint8Array, i: number, end: number, word: string): void {
  const n = word.length;
  if (i + n > end) fail(i);
  for (let k = 0; k < n; k++) if (b[i + k] !== word.charCodeAt(k)) fail(i + k);
  pos = i + n;
}

/** `out[k] = v` that also works for the key "__proto__" (an own property, as JSON.parse makes it). */
function setKey(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/** Frames of the first FRAME_POOL_MAX levels are reused; deeper ones are allocated (and then collected). */
const FRAME_POOL_MAX = 32;
const framePool: Frame[] = [];

/** After a failure: let go of the half-built containers the pooled frames still point to. */
function releaseFrames(): void {
  for (const f of framePool) {
    f.obj = undefined;
    f.arr = undefined;
  }
}

interface Frame {
  obj: Record<string, unknown> | undefined;
  arr: unknown[] | undefined;
  key: string;
  /** Start of the current member's value when its key is a raw key, else -1. */
  rawStart: number;
  /** sawNonAscii before the raw value started (the flag is restored + or-ed when it ends). */
  rawNonAsciiBefore: boolean;
  /** The current member is an opaque key: its value is walked, not built. */
  opaque: boolean;
}

/**
 * Parses b[start, end) as one JSON text (whitespace around it allowed). Never throws: malformed input and
 * nesting beyond `maxDepth` are reported with the offset of the offending byte.
 */
export function parseJson(b: Uint8Array, start = 0, end = b.length, opts: JsonParseOptions = {}): JsonParseResult {
  try {
    const raw = opts.rawKeys !== undefined && opts.rawKeys.size > 0 ? opts.rawKeys : undefined;
    const opaque = opts.opaqueKeys !== undefined && opts.opaqueKeys.size > 0 ? opts.opaqueKeys : undefined;
    return { ok: true, value: parseOrThrow(b, start, end, opts.maxDepth ?? Infinity, raw, opaque, opts.rawDepth ?? 4) };
  } catch (e) {
    releaseFrames();
    if (e instanceof ScanFailure) return { ok: false, error: e.error, offset: e.offset };
    throw e;
  }
}

function readKey(
  b: Uint8Array,
  i: number,
  end: number,
  f: Frame,
  rawKeys: ReadonlySet<string> | undefined,
  opaqueKeys: ReadonlySet<string> | undefined,
  deep: boolean,
): number {
  if (b[i] !== QUOTE) fail(i);
  f.key = readString(b, i, end);
  i = skipWs(b, pos, end);
  if (b[i] !== COLON) fail(i);
  i = skipWs(b, i + 1, end);
  f.opaque = !deep && opaqueKeys !== undefined && opaqueKeys.has(f.key);
  if (rawKeys !== undefined && !deep && !f.opaque && rawKeys.has(f.key)) {
    f.rawStart = i;
    f.rawNonAsciiBefore = sawNonAscii;
    sawNonAscii = false;
  } else f.rawStart = -1;
  return i;
}

function parseOrThrow(
  b: Uint8Array,
  start: number,
  end: number,
  maxDepth: number,
  rawKeys: ReadonlySet<string> | undefined,
  opaqueKeys: ReadonlySet<string> | undefined,
  rawDepth: number,
): unknown {
  const stack: Frame[] = [];
  sawNonAscii = false;
  let i = skipWs(b, start, end);
  for (;;) {
    // A value starts at b[i].
    if (i >= end) fail(i);
    const c = b[i] as number;
    let v: unknown;
    const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
    if (top !== undefined && top.opaque) {
      top.opaque = false;
      const before: boolean = sawNonAscii;
      sawNonAscii = false;
      const valueEnd = walkValue(b, i, end, maxDepth - stack.length);
      if (c === 0x6e) v = null;
      else {
        const span = b.slice(i, valueEnd);
        if (!sawNonAscii) knownJson.set(span, true);
        v = span;
      }
      sawNonAscii = before || sawNonAscii;
      i = valueEnd;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length >= maxDepth) fail(i, 'depth');
      const isObj = c === OPEN_OBJECT;
      i = skipWs(b, i + 1, end);
      if (b[i] === (isObj ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        v = isObj ? {} : [];
        i++;
      } else {
        // Frames are reused across containers and calls (parsing is synchronous): one object per level.
        let f = stack.length < FRAME_POOL_MAX ? framePool[stack.length] : undefined;
        if (f === undefined) {
          f = { obj: undefined, arr: undefined, key: '', rawStart: -1, rawNonAsciiBefore: false, opaque: false };
          if (stack.length < FRAME_POOL_MAX) framePool[stack.length] = f;
        }
        if (isObj) {
          f.obj = {};
          f.arr = undefined;
        } else {
          f.obj = undefined;
          f.arr = [];
        }
        f.rawStart = -1;
        stack.push(f);
        if (isObj) i = readKey(b, i, end, f, rawKeys, opaqueKeys, stack.length > rawDepth);
        continue;
      }
    } else if (c === QUOTE) {
      v = readString(b, i, end);
      i = pos;
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      v = readNumber(b, i, end);
      i = pos;
    } else if (c === 0x74) {
      scanLiteral(b, i, end, 'true');
      v = true;
      i = pos;
    } else if (c === 0x66) {
      scanLiteral(b, i, end, 'false');
      v = false;
      i = pos;
    } else if (c === 0x6e) {
      scanLiteral(b, i, end, 'null');
      v = null;
      i = pos;
    } else fail(i);
    // A value ended just before b[i]: store it in its container, closing containers as they end.
    for (;;) {
      const f = stack[stack.length - 1];
      if (f === undefined) {
        i = skipWs(b, i, end);
        if (i !== end) fail(i);
        return v;
      }
      if (f.arr !== undefined) f.arr.push(v);
      else if (f.obj !== undefined) {
        setKey(f.obj, f.key, v);
        if (f.rawStart >= 0) keepSpan(f, b.slice(f.rawStart, i));
      }
      i = skipWs(b, i, end);
      const d = b[i];
      if (d === COMMA) {
        i = skipWs(b, i + 1, end);
        if (f.obj !== undefined) i = readKey(b, i, end, f, rawKeys, opaqueKeys, stack.length > rawDepth);
        break;
      }
      if (d === (f.arr !== undefined ? CLOSE_ARRAY : CLOSE_OBJECT)) {
        i++;
        v = f.arr ?? f.obj;
        f.obj = undefined;
        f.arr = undefined;
        stack.pop();
        continue;
      }
      fail(i);
    }
  }
}

function keepSpan(f: Frame, span: Uint8Array): void {
  const o = f.obj as WithSpans;
  // A plain assignment (defineProperty costs ~100x more): the symbol key keeps it out of Object.keys,
  // for…in and JSON.stringify.
  const spans = o[SPANS] ?? (o[SPANS] = {});
  spans[f.key] = span;
  // The grammar is known good; only a span with bytes ≥ 0x80 still needs its UTF-8 checked (lazily).
  if (!sawNonAscii) knownJson.set(span, true);
  sawNonAscii = f.rawNonAsciiBefore || sawNonAscii;
}

/**
 * Whether b[start, end) is one JSON text (whitespace around it allowed), nested at most `maxDepth` deep.
 * No values are built. With `strictUtf8`, strings must also be valid UTF-8.
 */
export function isValidJson(b: Uint8Array, start = 0, end = b.length, maxDepth = Infinity, strictUtf8 = true): boolean {
  try {
    sawNonAscii = false;
    walk(b, start, end, maxDepth);
  } catch (e) {
    if (e instanceof ScanFailure) return false;
    throw e;
  }
  if (strictUtf8 && sawNonAscii) {
    try {
      strictDecoder.decode(b.subarray(start, end));
    } catch {
      return false;
    }
  }
  return true;
}

/** One byte per open container: 1 = object, 0 = array; shared, grown as needed (never recursion). */
let sharedKinds = new Uint8Array(64);

function walk(b: Uint8Array, start: number, end: number, maxDepth: number): void {
  const i = skipWs(b, walkValue(b, skipWs(b, start, end), end, maxDepth), end);
  if (i !== end) fail(i);
}

/** Validates the one JSON value starting at b[start] (no whitespace before it); returns the index after it. */
function walkValue(b: Uint8Array, start: number, end: number, maxDepth: number): number {
  let kinds = sharedKinds;
  let depth = 0;
  let i = start;
  for (;;) {
    if (i >= end) fail(i);
    const c = b[i] as number;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth >= maxDepth) fail(i, 'depth');
      const isObj = c === OPEN_OBJECT;
      i = skipWs(b, i + 1, end);
      if (b[i] === (isObj ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        i++;
      } else {
        if (depth === kinds.length) {
          const next = new Uint8Array(kinds.length * 2);
          next.set(kinds);
          kinds = sharedKinds = next;
        }
        kinds[depth++] = isObj ? 1 : 0;
        if (isObj) i = member(b, i, end);
        continue;
      }
    } else if (c === QUOTE) {
      i = scanString(b, i, end) + 1;
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      scanNumber(b, i, end);
      i = pos;
    } else if (c === 0x74) {
      scanLiteral(b, i, end, 'true');
      i = pos;
    } else if (c === 0x66) {
      scanLiteral(b, i, end, 'false');
      i = pos;
    } else if (c === 0x6e) {
      scanLiteral(b, i, end, 'null');
      i = pos;
    } else fail(i);
    for (;;) {
      if (depth === 0) return i;
      const isObj = kinds[depth - 1] === 1;
      i = skipWs(b, i, end);
      const d = b[i];
      if (d === COMMA) {
        i = skipWs(b, i + 1, end);
        if (isObj) i = member(b, i, end);
        break;
      }
      if (d === (isObj ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        i++;
        depth--;
        continue;
      }
      fail(i);
    }
  }
}

/** Skips `"name" :` and the whitespace after it; returns where the value starts. */
function member(b: Uint8Array, i: number, end: number): number {
  if (b[i] !== QUOTE) fail(i);
  i = skipWs(b, scanString(b, i, end) + 1, end);
  if (b[i] !== COLON) fail(i);
  return skipWs(b, i + 1, end);
}
