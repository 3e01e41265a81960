// One channel's history stream in memory: a bounded window of the latest publications, the top offset and
// the epoch of this incarnation (docs/protocol.md §5.1). Pure data structure: the caller passes `now`.
import type { Publication, StreamPosition } from '../../protocol/types.js';

export interface StreamReadOptions {
  since?: StreamPosition | undefined;
  /** -1 = all, 0 = none. */
  limit: number;
  reverse?: boolean | undefined;
}

/** Publications are kept oldest first in `items[head..]`; the prefix before `head` is garbage. */
export class Stream {
  top = 0;
  /** When stored publications expire (history_ttl since the last publication); 0 = never. */
  pubsExpireAt = 0;
  /** When the whole stream (epoch + top) is dropped (meta TTL since the last access); 0 = never. */
  metaExpireAt = 0;
  private items: Publication[] = [];
  private head = 0;

  constructor(readonly epoch: string) {}

  get size(): number {
    return this.items.length - this.head;
  }

  position(): StreamPosition {
    return { offset: this.top, epoch: this.epoch };
  }

  /** Appends `pub` with the next offset (set on `pub`), trims to `size`. Returns the new offset. */
  append(pub: Publication, size: number): number {
    this.top += 1;
    pub.offset = this.top;
    this.items.push(pub);
    const excess = this.size - Math.max(1, size);
    if (excess > 0) this.head += excess;
    this.compact();
    return this.top;
  }

  /** Drops stored publications; top and epoch stay. */
  clear(): void {
    this.items = [];
    this.head = 0;
  }

  read(opts: StreamReadOptions): Publication[] {
    const n = this.size;
    if (opts.limit === 0 || n === 0) return [];
    const max = opts.limit < 0 ? n : Math.min(opts.limit, n);
    const first = (this.items[this.head] as Publication).offset ?? 0;
    const out: Publication[] = [];
    if (opts.reverse === true) {
      // Newest first; with since: offsets < since.offset, empty when since.offset-1 is not stored.
      let idx = this.items.length - 1;
      if (opts.since !== undefined) {
        const want = opts.since.offset - 1;
        if (want < first || want > this.top) return [];
        idx = this.head + (want - first);
      }
      for (; idx >= this.head && out.length < max; idx--) out.push(this.items[idx] as Publication);
      return out;
    }
    // Oldest first; with since: offsets > since.offset (from the oldest stored when since is older).
    let idx = this.head;
    if (opts.since !== undefined) {
      const from = opts.since.offset + 1;
      if (from > this.top) return [];
      if (from > first) idx = this.head + (from - first);
    }
    for (; idx < this.items.length && out.length < max; idx++) out.push(this.items[idx] as Publication);
    return out;
  }

  private compact(): void {
    // Amortised O(1): drop the garbage prefix once it outweighs the live part.
    if (this.head > 32 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
