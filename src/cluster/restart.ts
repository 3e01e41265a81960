// When to restart a worker that exited unexpectedly: at once-ish the first time, then exponentially longer while
// it keeps failing soon after its start (a crash loop must not eat the CPU its siblings need), jittered so several
// failing workers do not restart in step. A worker that ran for a while starts the sequence again.

export interface RestartPolicyOptions {
  /** First delay (ms). */
  baseMs?: number;
  /** Longest delay (ms). */
  maxMs?: number;
  /** A worker that lived this long (ms) counts as healthy: its next crash starts again at baseMs. */
  healthyAfterMs?: number;
  rand?: () => number;
}

export class RestartPolicy {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly healthyAfterMs: number;
  private readonly rand: () => number;
  /** Consecutive quick failures per worker slot. */
  private readonly failures = new Map<number, number>();

  constructor(opts: RestartPolicyOptions = {}) {
    this.baseMs = opts.baseMs ?? 100;
    this.maxMs = opts.maxMs ?? 10_000;
    this.healthyAfterMs = opts.healthyAfterMs ?? 30_000;
    this.rand = opts.rand ?? Math.random;
  }

  /** The delay before restarting the worker in `slot`, which ran for `livedMs`. */
  nextDelay(slot: number, livedMs: number): number {
    const n = livedMs >= this.healthyAfterMs ? 0 : (this.failures.get(slot) ?? 0);
    this.failures.set(slot, n + 1);
    const d = Math.min(this.maxMs, this.baseMs * 2 ** n);
    // Full delay ±25 %.
    return Math.round(d * (0.75 + this.rand() * 0.5));
  }
}
