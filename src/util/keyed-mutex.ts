// A per-key async mutex: callers holding the same key run one after another, in call order; different keys
// run concurrently. Keys with no waiters hold no memory. Used to order publish (append + broker publish)
// per channel when history and broker are different stores.

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Run `fn` once every earlier `run` with the same key has settled. Errors go to this caller only. */
  run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.tails.set(key, mine);
    const done = (): void => {
      if (this.tails.get(key) === mine) this.tails.delete(key);
      release();
    };
    const start = prev === undefined ? Promise.resolve() : prev;
    return start.then(fn).finally(done);
  }

  /** Whether some call for `key` is running or waiting. */
  isLocked(key: string): boolean {
    return this.tails.has(key);
  }

  /** Number of keys currently locked. */
  get size(): number {
    return this.tails.size;
  }
}
