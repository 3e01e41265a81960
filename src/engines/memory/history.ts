// In-memory history streams of all channels: creation with a fresh epoch, append + trim, reads (docs/protocol.md §5.5),
// history TTL (clears publications) and meta TTL (drops the stream). Synchronous so that the broker can
// append and deliver in one step. Expiry is lazy on access plus `sweep()` driven by the broker's timer.
import { UnrecoverablePositionError } from '../types.js';
import type { HistoryReadOptions, HistoryReadResult } from '../types.js';
import type { Publication, StreamPosition } from '../../protocol/types.js';
import { randomLetters } from '../../util/random.js';
import { Stream } from './stream.js';

export interface AppendOptions {
  size: number;
  ttlMs: number;
  /** <= 0 ⇒ the stream metadata never expires. */
  metaTtlMs: number;
}

export class MemoryHistory {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly now: () => number,
    private readonly newEpoch: () => string = () => randomLetters(8),
  ) {}

  /** Appends `pub` (its `offset` is set) and returns the new top position. */
  append(channel: string, pub: Publication, opts: AppendOptions): StreamPosition {
    const now = this.now();
    const s = this.touch(channel, now, opts.metaTtlMs);
    s.append(pub, opts.size);
    s.pubsExpireAt = opts.ttlMs > 0 ? now + opts.ttlMs : 0;
    return s.position();
  }

  read(channel: string, opts: HistoryReadOptions): HistoryReadResult {
    const s = this.touch(channel, this.now(), opts.metaTtlMs);
    const position = s.position();
    const since = opts.since;
    if (since !== undefined && since.epoch !== '' && since.epoch !== s.epoch) {
      throw new UnrecoverablePositionError(position);
    }
    const publications = s.read({ since, limit: opts.limit, reverse: opts.reverse });
    return { publications, position };
  }

  /** The latest stored publication of a live stream (delta compression's base), without touching its TTLs. */
  latest(channel: string): Publication | undefined {
    const s = this.live(channel, this.now());
    return s === undefined ? undefined : s.read({ limit: 1, reverse: true })[0];
  }

  remove(channel: string): void {
    const s = this.live(channel, this.now());
    if (s !== undefined) s.clear();
  }

  /** Applies both TTLs to every stream. */
  sweep(): void {
    const now = this.now();
    for (const [channel, s] of this.streams) this.expire(channel, s, now);
  }

  /** Number of streams held (for tests and metrics). */
  get size(): number {
    return this.streams.size;
  }

  clear(): void {
    this.streams.clear();
  }

  /** The live stream or undefined, applying expiry first. */
  private live(channel: string, now: number): Stream | undefined {
    const s = this.streams.get(channel);
    if (s === undefined) return undefined;
    return this.expire(channel, s, now) ? s : undefined;
  }

  /** Gets or creates the stream and refreshes its meta TTL (every access counts). */
  private touch(channel: string, now: number, metaTtlMs: number): Stream {
    let s = this.live(channel, now);
    if (s === undefined) {
      s = new Stream(this.newEpoch());
      this.streams.set(channel, s);
    }
    s.metaExpireAt = metaTtlMs > 0 ? now + metaTtlMs : 0;
    return s;
  }

  /** Returns false when the stream was dropped. */
  private expire(channel: string, s: Stream, now: number): boolean {
    if (s.metaExpireAt !== 0 && s.metaExpireAt <= now) {
      this.streams.delete(channel);
      return false;
    }
    if (s.pubsExpireAt !== 0 && s.pubsExpireAt <= now) {
      s.clear();
      s.pubsExpireAt = 0;
    }
    return true;
  }
}
