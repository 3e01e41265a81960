// Idempotent publish results per (channel, key), kept for a fixed TTL (5 minutes by default). The TTL is
// the same for every entry, so insertion order is expiry order and expiry only looks at the front.

export interface IdempotentEntry<T> {
  result: T;
  expireAt: number;
}

export class IdempotencyCache<T> {
  private readonly entries = new Map<string, IdempotentEntry<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1_000_000,
  ) {}

  /** The live entry for (channel, key), or undefined. */
  get(channel: string, key: string, now: number): IdempotentEntry<T> | undefined {
    const e = this.entries.get(cacheKey(channel, key));
    if (e === undefined || e.expireAt <= now) return undefined;
    return e;
  }

  set(channel: string, key: string, result: T, now: number): void {
    const k = cacheKey(channel, key);
    this.entries.delete(k); // keep insertion order = expiry order
    this.entries.set(k, { result, expireAt: now + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Drops expired entries from the front. */
  sweep(now: number): void {
    for (const [k, e] of this.entries) {
      if (e.expireAt > now) break;
      this.entries.delete(k);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

function cacheKey(channel: string, key: string): string {
  // Channel names cannot contain NUL in practice; the length prefix makes the split unambiguous anyway.
  return `${channel.length}:${channel}\u0000${key}`;
}
