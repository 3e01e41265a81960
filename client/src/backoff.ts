// Storm manners for the one real connection: decorrelated-jitter reconnect delays, a wider spread after a drain
// hint (the server said it is shutting down: 3001), and a random first-connect delay for a page loaded during
// an outage. Each browser draws its own numbers, so a storm of tabs becomes a trickle of browsers.

export interface JitterOptions {
  /** Smallest delay (ms). */
  baseMs: number;
  /** Largest delay (ms). */
  capMs: number;
  /** After a drain hint the next delay is uniform in [baseMs, drainSpreadMs]. */
  drainSpreadMs: number;
  random?: () => number;
}

/** "Decorrelated jitter": next = min(cap, uniform(base, prev * 3)). */
export class DecorrelatedJitter {
  private prev: number;
  private hinted: number | undefined;
  private readonly random: () => number;

  constructor(private readonly o: JitterOptions) {
    this.prev = o.baseMs;
    this.random = o.random ?? Math.random;
  }

  next(): number {
    if (this.hinted !== undefined) {
      const d = this.hinted;
      this.hinted = undefined;
      this.prev = Math.max(this.o.baseMs, d);
      return d;
    }
    const hi = Math.max(this.o.baseMs, this.prev * 3);
    const d = Math.min(this.o.capMs, this.o.baseMs + this.random() * (hi - this.o.baseMs));
    this.prev = d;
    return Math.round(d);
  }

  /** The server is draining (shutdown disconnect): spread the next attempt widely. */
  drain(): void {
    this.hinted = Math.round(this.o.baseMs + this.random() * Math.max(0, this.o.drainSpreadMs - this.o.baseMs));
  }

  /** A server-given wait (Retry-After style), in ms: the next attempt waits at least that long plus jitter. */
  retryAfter(ms: number): void {
    this.hinted = Math.round(ms + this.random() * this.o.baseMs);
  }

  reset(): void {
    this.prev = this.o.baseMs;
    this.hinted = undefined;
  }
}

/** Delay before the very first connect: 0 normally, uniform in [0, maxMs) when the page loaded in an outage. */
export function initialDelay(outage: boolean, maxMs: number, random: () => number = Math.random): number {
  return outage ? Math.round(random() * maxMs) : 0;
}
