// Login throttling per client IP: after `maxFailures` wrong passwords within `windowMs`, further attempts from
// that IP are refused (429 with Retry-After) until the window that began with the first failure has passed. A
// right password clears the IP's record. The table is bounded: when full, the oldest record is dropped.

export interface ThrottleOptions {
  maxFailures: number;
  windowMs: number;
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { maxFailures: 5, windowMs: 60_000, maxEntries: 10_000 };

interface Entry {
  failures: number;
  since: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly opts: ThrottleOptions = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when `ip` may try now, else the milliseconds until it may. */
  retryAfterMs(ip: string): number {
    const e = this.entries.get(ip);
    if (e === undefined) return 0;
    const left = e.since + this.opts.windowMs - this.now();
    if (left <= 0) {
      this.entries.delete(ip);
      return 0;
    }
    return e.failures >= this.opts.maxFailures ? left : 0;
  }

  failed(ip: string): void {
    const now = this.now();
    let e = this.entries.get(ip);
    if (e === undefined || e.since + this.opts.windowMs <= now) {
      if (e !== undefined) this.entries.delete(ip);
      e = { failures: 0, since: now };
      if (this.entries.size >= this.opts.maxEntries) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      this.entries.set(ip, e);
    }
    e.failures++;
  }

  succeeded(ip: string): void {
    this.entries.delete(ip);
  }

  get size(): number {
    return this.entries.size;
  }
}
