// client.connection_rate_limit as a token bucket: it holds N tokens and refills continuously at N per second,
// so a burst lets in N and then N per second keep being let in (docs/storm.md §1). One bucket serves every
// transport's admission of a process (WebSocket upgrades and the HTTP-based endpoints), so the limit holds for
// the node and not once per transport; with worker processes, N is each worker's share.

export class RateBucket {
  private perSecond: number;
  private tokens: number;
  private last = performance.now();

  /** `perSecond` 0 = off (every take succeeds). */
  constructor(perSecond: number) {
    this.perSecond = perSecond;
    this.tokens = perSecond > 0 ? Math.max(1, perSecond) : 0;
  }

  get rate(): number {
    return this.perSecond;
  }

  /** Config reload: a lower limit also lowers what the bucket holds now. */
  setRate(perSecond: number): void {
    if (perSecond === this.perSecond) return;
    this.level();
    this.perSecond = perSecond;
    this.tokens = Math.min(this.tokens, Math.max(1, perSecond));
  }

  /** Tokens in the bucket now (refilled up to this moment). A share under 1 per second still holds one. */
  level(): number {
    const now = performance.now();
    const n = this.perSecond;
    this.tokens = Math.min(Math.max(1, n), this.tokens + ((now - this.last) * n) / 1000);
    this.last = now;
    return this.tokens;
  }

  /** Takes a token; false when the bucket is empty. Always true when the limit is off. */
  take(): boolean {
    if (this.perSecond <= 0) return true;
    if (this.level() < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when a take now would fail. */
  empty(): boolean {
    return this.perSecond > 0 && this.level() < 1;
  }
}
