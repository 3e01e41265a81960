// Retry pacing and wake-ups for consumer loops: Centrifugo's consumer backoff (10 ms plus up to 10 ms of jitter,
// doubled per retry, capped at 5 s), an abortable sleep, a bounded wait for a stop (settlesWithin) and a Waker, a one-slot signal that ends a poll wait early (a NOTIFY, a stop).

const MIN_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 5000;

/** The wait before retry number `retries` (1, 2, …). */
export function nextBackoffMs(retries: number, rand: () => number = Math.random): number {
  const jitter = Math.floor(rand() * MIN_BACKOFF_MS);
  return Math.min((MIN_BACKOFF_MS + jitter) * 2 ** Math.min(retries, 20), MAX_BACKOFF_MS);
}

/** Resolves after `ms`, or at once when `signal` is aborted (never rejects). */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Whether `p` settles within `ms` (a stop's grace period); the timer never outlives the call. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A wake-up signal with one slot, like a buffered Go channel of size 1: `wake()` while nobody waits is kept
 * and ends the next `wait()` at once; several wakes collapse into one.
 */
export class Waker {
  private pending = false;
  private resolve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  wake(): void {
    const r = this.resolve;
    if (r === undefined) {
      this.pending = true;
      return;
    }
    this.settle();
    r();
  }

  /** Resolves after `ms`, or as soon as wake() is called (or was called since the last wait). */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => {
        this.settle();
        resolve();
      }, ms);
    });
  }

  private settle(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.resolve = undefined;
  }
}
