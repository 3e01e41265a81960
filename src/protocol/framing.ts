// Message framing shared by the codecs: unsigned LEB128 varints (protobuf length prefixes) and byte
// concatenation helpers. Runtime-agnostic: Uint8Array only.

const NEWLINE = 0x0a;

/** Largest value a length prefix may hold (lengths are uint32 in practice; frames are far smaller). */
export const MAX_VARINT_LENGTH = 0xffff_ffff;

/** Number of bytes the unsigned varint encoding of `n` (0 ≤ n ≤ 2^32−1) takes. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x20_0000) return 3;
  if (n < 0x1000_0000) return 4;
  return 5;
}

/** Write the unsigned varint `n` at `pos`; returns the position after it. `out` must have room. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  let v = n;
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128); // not `>>> 7`: keeps values ≥ 2^31 exact
  }
  out[pos++] = v;
  return pos;
}

/** The varint encoding of `n` as a fresh array. */
export function encodeVarint(n: number): Uint8Array {
  const out = new Uint8Array(varintSize(n));
  writeVarint(out, 0, n);
  return out;
}

/** Cursor for readVarint: `pos` is advanced past the varint, `value` receives it. */
export interface VarintCursor {
  pos: number;
  value: number;
}

/**
 * Read an unsigned varint (at most 5 bytes, value ≤ 2^32−1) at `cur.pos`. Returns false (cursor
 * unchanged) when the input is truncated or the varint is too long.
 */
export function readVarint(buf: Uint8Array, cur: VarintCursor): boolean {
  let pos = cur.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= buf.length) return false;
    const b = buf[pos++] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (value > MAX_VARINT_LENGTH) return false;
      cur.pos = pos;
      cur.value = value;
      return true;
    }
    scale *= 128;
  }
  return false;
}

/** Concatenate byte arrays into one new array (0 parts ⇒ empty; 1 part ⇒ returned as is). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let total = 0;
  for (let i = 0; i < parts.length; i++) total += (parts[i] as Uint8Array).length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as Uint8Array;
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** JSON framing: messages joined by a single '\n', no trailing newline; one message is returned as is. */
export function joinNewline(messages: readonly Uint8Array[]): Uint8Array {
  const n = messages.length;
  if (n === 1) return messages[0] as Uint8Array;
  if (n === 0) return new Uint8Array(0);
  let total = n - 1;
  for (let i = 0; i < n; i++) total += (messages[i] as Uint8Array).length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0) out[pos++] = NEWLINE;
    const m = messages[i] as Uint8Array;
    out.set(m, pos);
    pos += m.length;
  }
  return out;
}

/** Protobuf framing: every message (even a single one) prefixed by its varint length. */
export function joinDelimited(messages: readonly Uint8Array[]): Uint8Array {
  const n = messages.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const len = (messages[i] as Uint8Array).length;
    total += varintSize(len) + len;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i] as Uint8Array;
    pos = writeVarint(out, pos, m.length);
    out.set(m, pos);
    pos += m.length;
  }
  return out;
}

/** Protobuf framing of one message: its varint length, then the message (joinDelimited of one, no array). */
export function delimitedOne(message: Uint8Array): Uint8Array {
  const len = message.length;
  const out = new Uint8Array(varintSize(len) + len);
  out.set(message, writeVarint(out, 0, len));
  return out;
}

/**
 * Split a protobuf frame into its varint-delimited messages (views into `frame`, no copies). Stops at the
 * first truncated prefix or body; `error` is set then.
 */
export function splitDelimited(frame: Uint8Array): { messages: Uint8Array[]; error?: string } {
  const messages: Uint8Array[] = [];
  const cur: VarintCursor = { pos: 0, value: 0 };
  while (cur.pos < frame.length) {
    if (!readVarint(frame, cur)) return { messages, error: 'bad length prefix' };
    const end = cur.pos + cur.value;
    if (end > frame.length) return { messages, error: 'truncated message' };
    messages.push(frame.subarray(cur.pos, end));
    cur.pos = end;
  }
  return { messages };
}
