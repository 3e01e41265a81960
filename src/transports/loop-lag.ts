// The event-loop lag the admission guard reads (docs/storm.md §1), measured once per process: one
// event-loop-delay histogram and one window timer shared by every Admission (the WebSocket handler's and the
// HTTP gate's), instead of one of each per admission. Every histogram sample and every window is a timer
// wake-up, paid even by an idle node (BENCHMARKS.md §10.6).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Length of a window: each watcher gets the largest delay of the last one. */
export const WINDOW_MS = 250;
/**
 * Resolution of the histogram: a stall is seen to within this much, far below the guard's budget (seconds);
 * each sample is a timer wake-up, so 10 ms cost an idle node ~100 wake-ups a second.
 */
export const LAG_RESOLUTION_MS = 50;

export type LagListener = (lagMs: number) => void;

export class LoopLagSampler {
  private readonly listeners = new Set<LagListener>();
  private histogram: IntervalHistogram | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly windowMs = WINDOW_MS,
    private readonly resolutionMs = LAG_RESOLUTION_MS,
  ) {}

  /** Watchers now. */
  get watchers(): number {
    return this.listeners.size;
  }

  /** The histogram and the window timer run (while there is a watcher). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * `fn` gets the largest delay (ms) of each window from now on. The first watcher starts the histogram and
   * the timer; the returned function stops watching, and the last one stops both.
   */
  watch(fn: LagListener): () => void {
    this.listeners.add(fn);
    if (this.timer === undefined) {
      this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
      this.histogram.enable();
      this.timer = setInterval(this.endWindow, this.windowMs);
      this.timer.unref();
    }
    return () => {
      if (this.listeners.delete(fn) && this.listeners.size === 0) this.stop();
    };
  }

  /** The largest delay (ms) seen so far in the current window; 0 when nothing was sampled or nobody watches. */
  currentMs(): number {
    const h = this.histogram;
    return h !== undefined && Number.isFinite(h.max) ? h.max / 1e6 : 0;
  }

  /** Ends the current window: every watcher gets its largest delay, and the next window starts empty. */
  readonly endWindow = (): void => {
    const lagMs = this.currentMs();
    this.histogram?.reset();
    for (const fn of this.listeners) {
      try {
        fn(lagMs);
      } catch {
        // One watcher's failure must not keep the others from their sample.
      }
    }
  };

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
    this.histogram = undefined;
  }
}

/** The process's sampler. */
export const loopLag = new LoopLagSampler();
