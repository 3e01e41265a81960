// At start-up, the workers open the main port together. Each worker asks the primary for its copies of the main
// socket once its warm-up is done (src/warmup.ts, then the engine); a worker that got them first would take the
// whole first burst alone while the other is still compiling, and the node would look ready (its /health answers)
// with one worker serving. The gate holds every answer until each worker slot has asked, or until `maxWaitMs`
// after the first ask (a slow or stuck worker does not keep the port shut), or until release() (a worker exited,
// shutdown). After that, answers go out at once: a restarted worker joins others that already serve.

export class StartGate {
  private opened = false;
  private readonly asked = new Set<number>();
  private readonly held: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly slots: number,
    private readonly maxWaitMs: number,
  ) {}

  get isOpen(): boolean {
    return this.opened;
  }

  /** Runs `answer` now when the gate is open, else when it opens. */
  request(slot: number, answer: () => void): void {
    if (this.opened) {
      answer();
      return;
    }
    this.asked.add(slot);
    this.held.push(answer);
    if (this.asked.size >= this.slots) this.release();
    else this.timer ??= setTimeout(() => this.release(), this.maxWaitMs);
  }

  /** Opens the gate and answers every held request, in the order they came. */
  release(): void {
    if (this.opened) return;
    this.opened = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const answer of this.held.splice(0)) answer();
  }
}
