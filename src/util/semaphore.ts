// A counting semaphore for async work: at most `limit` holders; waiters are served in arrival order. Small and
// dependency-free; `acquire` resolves with a release function that must be called exactly once.
export class Semaphore {
  private held = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('semaphore limit must be >= 1');
  }

  get inUse(): number {
    return this.held;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(): Promise<() => void> {
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => this.waiters.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next !== undefined) next(); // the slot passes on to the next waiter
      else this.held--;
    };
  }
}
