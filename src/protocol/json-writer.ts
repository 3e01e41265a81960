// A small byte-level JSON writer: strings are escaped once, raw payload bytes are spliced in unparsed.
// One instance is reused for every encode (encoding is synchronous and never re-entrant).
//
// Allocation: messages up to SLAB_MAX_MESSAGE bytes are written straight into a shared 16 KiB slab and
// returned as views of it (no copy, no per-message ArrayBuffer), the way Node pools small Buffers. Callers
// must therefore honour byteOffset/byteLength (never use `.buffer` alone); a slab stays alive while any
// message in it does. Larger messages are built in a scratch buffer and copied out once.
// Runtime-agnostic: TextEncoder + Uint8Array only.

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
const SLAB_SIZE = 16 * 1024;
const SLAB_MAX_MESSAGE = 4 * 1024;
/** A new slab is started when less than this is left, so that most messages never have to move. */
const SLAB_MIN_FREE = 512;
const SCRATCH_INITIAL = 64 * 1024;
/** After encoding something bigger than this, the scratch buffer is dropped back to its initial size. */
const MAX_RETAINED_SCRATCH = 1024 * 1024;

export class JsonWriter {
  private slab = new Uint8Array(SLAB_SIZE);
  private slabPos = 0;
  private scratch: Uint8Array | undefined;
  /** Where the current message is written: the slab (from `start`) or the scratch buffer (from 0). */
  private buf: Uint8Array = this.slab;
  private start = 0;
  private pos = 0;
  /** One flag per open object/array: true until its first member is written. */
  private readonly first: boolean[] = [];
  private depth = 0;

  reset(): void {
    if (SLAB_SIZE - this.slabPos < SLAB_MIN_FREE) this.newSlab();
    this.buf = this.slab;
    this.start = this.pos = this.slabPos;
    this.depth = 0;
  }

  /** The written message: a view of the slab, or a copy out of the scratch buffer. */
  finish(): Uint8Array {
    let out: Uint8Array;
    if (this.buf === this.slab) {
      out = this.slab.subarray(this.start, this.pos);
      this.slabPos = (this.pos + 7) & ~7;
    } else {
      out = this.buf.slice(0, this.pos);
      if (this.buf.length > MAX_RETAINED_SCRATCH) this.scratch = undefined;
    }
    this.reset();
    return out;
  }

  private newSlab(): void {
    this.slab = new Uint8Array(SLAB_SIZE);
    this.slabPos = 0;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const written = this.pos - this.start;
    const need = written + extra;
    if (this.buf === this.slab && need <= SLAB_MAX_MESSAGE) {
      // Does not fit in what is left of this slab: continue at the start of a fresh one.
      const old = this.slab;
      this.newSlab();
      this.slab.set(old.subarray(this.start, this.pos));
      this.buf = this.slab;
    } else {
      let size = this.scratch?.length ?? SCRATCH_INITIAL;
      while (size < need) size *= 2;
      const reuse = this.scratch !== undefined && this.scratch.length >= size && this.buf !== this.scratch;
      const next = reuse && this.scratch !== undefined ? this.scratch : new Uint8Array(size);
      next.set(this.buf.subarray(this.start, this.pos));
      this.buf = this.scratch = next;
    }
    this.start = 0;
    this.pos = written;
  }

  /** Bytes written verbatim (pre-encoded fragments). */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A string known to be ASCII (keys, punctuation, numbers). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  private utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }

  /** A JSON string literal. Plain printable ASCII is copied directly; anything else goes through JSON.stringify. */
  str(s: string): void {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.utf8(JSON.stringify(s));
        return;
      }
    }
    this.ensure(n + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    buf[p++] = 0x22;
    this.pos = p;
  }

  num(n: number): void {
    this.ascii(Number.isFinite(n) ? String(n) : '0');
  }

  /** Raw JSON payload bytes, spliced in with every '\n' byte removed (a message never spans lines). */
  raw(b: Uint8Array): void {
    if (b.indexOf(NEWLINE) === -1) {
      this.bytes(b);
      return;
    }
    this.ensure(b.length);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < b.length; i++) {
      const c = b[i] as number;
      if (c !== NEWLINE) buf[p++] = c;
    }
    this.pos = p;
  }

  private byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  open(): void {
    this.byte(0x7b); // {
    this.first[this.depth++] = true;
  }

  openArray(): void {
    this.byte(0x5b); // [
    this.first[this.depth++] = true;
  }

  close(): void {
    this.depth--;
    this.byte(0x7d); // }
  }

  closeArray(): void {
    this.depth--;
    this.byte(0x5d); // ]
  }

  /** Start an object member: writes `,"name":` (no comma for the first member). `name` must be plain ASCII. */
  field(name: string): void {
    const n = name.length;
    this.ensure(n + 4);
    const buf = this.buf;
    let p = this.pos;
    const d = this.depth - 1;
    if (this.first[d] === true) this.first[d] = false;
    else buf[p++] = 0x2c; // ,
    buf[p++] = 0x22;
    for (let i = 0; i < n; i++) buf[p++] = name.charCodeAt(i);
    buf[p++] = 0x22;
    buf[p++] = 0x3a; // :
    this.pos = p;
  }

  /** Start a map member whose key is arbitrary text. */
  key(name: string): void {
    this.sep();
    this.str(name);
    this.byte(0x3a);
  }

  /** Before an array element: a comma unless it is the first. */
  sep(): void {
    const d = this.depth - 1;
    if (this.first[d] === true) this.first[d] = false;
    else this.byte(0x2c);
  }
}
