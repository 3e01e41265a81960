// The shape of a `/api/batch` body found without parsing it whole: `{"commands":[…],"parallel":…}` is walked
// byte by byte (iteratively, no recursion) and the `commands` array is handed out as runs of consecutive
// items, so a 10 MB batch is parsed and run a slice at a time and never lives as one object tree. Values are
// only delimited here; each run and each other value is then checked by JSON.parse, so the body is accepted
// exactly when JSON.parse would accept it.

const WS_SPACE = 0x20;
const WS_TAB = 0x09;
const WS_LF = 0x0a;
const WS_CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;

function isSpace(c: number): boolean {
  return c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB;
}

/** Not valid JSON (⇒ HTTP 400). */
export class BatchSyntaxError extends Error {
  override readonly name = 'BatchSyntaxError';
}

/** One step of the walk. */
export type BatchScanStep =
  /** `count` consecutive command items, bytes [start, end): JSON.parse(`[${text}]`) gives them. */
  | { kind: 'items'; start: number; end: number; count: number }
  /** A `commands` key again (the last one wins, as in JSON.parse): forget the items handed out so far. */
  | { kind: 'reset' }
  /** Another top-level member, bytes [start, end) of its value (`key` already decoded). */
  | { kind: 'member'; key: string; start: number; end: number }
  /** The body's top-level value is not an object (bytes [start, end)). */
  | { kind: 'scalar'; start: number; end: number }
  | { kind: 'done' };

const ST_TOP = 0;
const ST_MEMBER_OR_END = 1;
const ST_AFTER_MEMBER = 2;
const ST_ITEM_OR_END = 3;
const ST_AFTER_ITEM = 4;
const ST_TRAILER = 5;
const ST_DONE = 6;

export class BatchScanner {
  private pos = 0;
  private state = ST_TOP;
  private readonly decoder = new TextDecoder();

  constructor(private readonly b: Uint8Array) {}

  /**
   * The next step; an `items` step holds at most `maxItems` items. Throws BatchSyntaxError when the bytes
   * cannot be a JSON object (values themselves are validated by the caller's JSON.parse).
   */
  next(maxItems: number): BatchScanStep {
    for (let guard = 0; guard < 16; guard++) {
      switch (this.state) {
        case ST_TOP: {
          const p = this.skipSpace(this.pos);
          if (p >= this.b.length) throw new BatchSyntaxError('empty body');
          if (this.b[p] !== OPEN_OBJ) {
            const end = this.valueEnd(p);
            this.pos = end;
            this.state = ST_TRAILER;
            return { kind: 'scalar', start: p, end };
          }
          this.pos = p + 1;
          this.state = ST_MEMBER_OR_END;
          const q = this.skipSpace(this.pos);
          if (this.b[q] === CLOSE_OBJ) {
            this.pos = q + 1;
            this.state = ST_TRAILER;
          }
          continue;
        }
        case ST_MEMBER_OR_END: {
          // A member: "key" : value
          const k = this.skipSpace(this.pos);
          if (this.b[k] !== QUOTE) throw new BatchSyntaxError('expected a key');
          const kEnd = this.stringEnd(k);
          const key = this.keyText(k, kEnd);
          const c = this.skipSpace(kEnd);
          if (this.b[c] !== COLON) throw new BatchSyntaxError('expected ":"');
          const v = this.skipSpace(c + 1);
          if (v >= this.b.length) throw new BatchSyntaxError('truncated');
          if (key === 'commands' && this.b[v] === OPEN_ARR) {
            this.pos = v + 1;
            const first = this.skipSpace(this.pos);
            if (this.b[first] === CLOSE_ARR) {
              this.pos = first + 1;
              this.state = ST_AFTER_MEMBER;
            } else {
              this.state = ST_ITEM_OR_END;
            }
            return { kind: 'reset' };
          }
          const end = this.valueEnd(v);
          this.pos = end;
          this.state = ST_AFTER_MEMBER;
          return { kind: 'member', key, start: v, end };
        }
        case ST_AFTER_MEMBER: {
          const p = this.skipSpace(this.pos);
          const c = this.b[p];
          if (c === COMMA) {
            this.pos = p + 1;
            this.state = ST_MEMBER_OR_END;
          } else if (c === CLOSE_OBJ) {
            this.pos = p + 1;
            this.state = ST_TRAILER;
          } else {
            throw new BatchSyntaxError('expected "," or "}"');
          }
          continue;
        }
        case ST_ITEM_OR_END:
          return this.items(maxItems);
        case ST_AFTER_ITEM: {
          const p = this.skipSpace(this.pos);
          const c = this.b[p];
          if (c === COMMA) {
            this.pos = p + 1;
            this.state = ST_ITEM_OR_END;
            continue;
          }
          if (c === CLOSE_ARR) {
            this.pos = p + 1;
            this.state = ST_AFTER_MEMBER;
            continue;
          }
          throw new BatchSyntaxError('expected "," or "]"');
        }
        case ST_TRAILER: {
          if (this.skipSpace(this.pos) < this.b.length) throw new BatchSyntaxError('data after the body');
          this.state = ST_DONE;
          return { kind: 'done' };
        }
        default:
          return { kind: 'done' };
      }
    }
    throw new BatchSyntaxError('scanner made no progress');
  }

  /** Up to `maxItems` items from the current position (which is at an item, after '[' or ','). */
  private items(maxItems: number): BatchScanStep {
    const b = this.b;
    const start = this.skipSpace(this.pos);
    let end = start;
    let count = 0;
    let p = start;
    for (;;) {
      if (p >= b.length) throw new BatchSyntaxError('truncated');
      end = this.valueEnd(p);
      count++;
      const q = this.skipSpace(end);
      const c = b[q];
      if (c === CLOSE_ARR) {
        this.pos = q + 1;
        this.state = ST_AFTER_MEMBER;
        break;
      }
      if (c !== COMMA) throw new BatchSyntaxError('expected "," or "]"');
      if (count >= maxItems) {
        this.pos = q;
        this.state = ST_AFTER_ITEM;
        break;
      }
      p = this.skipSpace(q + 1);
    }
    return { kind: 'items', start, end, count };
  }

  private skipSpace(p: number): number {
    const b = this.b;
    while (p < b.length && isSpace(b[p]!)) p++;
    return p;
  }

  /** `p` is at an opening quote; returns the index after the closing one. */
  private stringEnd(p: number): number {
    const b = this.b;
    let i = p + 1;
    while (i < b.length) {
      const c = b[i]!;
      if (c === QUOTE) return i + 1;
      i += c === BACKSLASH ? 2 : 1;
    }
    throw new BatchSyntaxError('unterminated string');
  }

  private keyText(start: number, end: number): string {
    try {
      return JSON.parse(this.decoder.decode(this.b.subarray(start, end))) as string;
    } catch {
      throw new BatchSyntaxError('bad key');
    }
  }

  /** End (exclusive) of the JSON value starting at `p`: brackets are counted, strings skipped. */
  private valueEnd(p: number): number {
    const b = this.b;
    const c = b[p];
    if (c === QUOTE) return this.stringEnd(p);
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      let depth = 0;
      let i = p;
      while (i < b.length) {
        const x = b[i]!;
        if (x === QUOTE) {
          i = this.stringEnd(i);
          continue;
        }
        if (x === OPEN_OBJ || x === OPEN_ARR) depth++;
        else if (x === CLOSE_OBJ || x === CLOSE_ARR) {
          depth--;
          if (depth === 0) return i + 1;
        }
        i++;
      }
      throw new BatchSyntaxError('unterminated value');
    }
    // A number or a literal: up to the next delimiter.
    let i = p;
    while (i < b.length) {
      const x = b[i]!;
      if (x === COMMA || x === CLOSE_OBJ || x === CLOSE_ARR || isSpace(x)) break;
      i++;
    }
    if (i === p) throw new BatchSyntaxError('expected a value');
    return i;
  }
}
