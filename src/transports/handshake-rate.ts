// The adaptive admission guard's estimate (transports/admission.ts, docs/storm.md §1): how many WebSocket handshakes
// this process completes per second, and from it how long a client admitted now would wait. Pure arithmetic on
// measured windows, so that it can be tested without clocks.
//
// The rate is handshakes completed per second of main-thread busy time (performance.eventLoopUtilization), not per
// second of wall time: a window with 200 handshakes in 40 ms of work says the process does 5,000 a second, whether
// the clients came in 250 ms or in 1 s. Every other piece of work in the window is counted as handshake work, so a
// sample can only be below the true rate (conservative). Windows where the guard refused much can only raise the
// estimate: their busy time went to the refusals too, and a rate lowered by them would keep the guard shut (a rate
// measured while refusing once kept 2,000 clients behind nginx refused for 90 s); but what they show is still a
// floor of the true rate, and a low prior would otherwise stay until the refusals stop.

/** Assumed until something was measured (no warm-up): ~330 µs per connect, the costliest measured (BENCHMARKS.md §14-15). */
export const DEFAULT_PRIOR_RATE = 3000;
/** The rate never goes below this, so that a few slow windows cannot shut the guard for good. */
export const MIN_RATE = 100;
/** Nor above this (a window with a mis-measured busy time must not open the guard wide: ~20 µs per connect). */
export const MAX_RATE = 50_000;
/** Fewer handshakes than this in a window say too little (and the other work in it dominates): not used. */
export const MIN_SAMPLE = 16;
/** A window with this many handshakes moves the estimate by WEIGHT; smaller ones proportionally less. */
const FULL_WEIGHT_AT = 200;
const WEIGHT = 0.3;
/** A window whose refusals exceed this share of its completed handshakes can only raise the estimate… */
const MAX_REFUSED_SHARE = 0.25;
/** …and only with at least this many handshakes (also what the first window needs to replace the prior). */
const FLOOR_SAMPLE = 64;
/** Busy time below this (ms) is taken as this, so that one sample cannot divide by ~0. */
const MIN_ACTIVE_MS = 1;

/** What the admission measured over one sampling window. */
export interface RateWindow {
  /** Handshakes that left the queue in the window: admitted minus the growth of those in flight. */
  completed: number;
  /** Main-thread busy time over the window (ms). */
  activeMs: number;
  /** Upgrades refused in the window. */
  refused: number;
}

function clampRate(r: number): number {
  return Number.isFinite(r) ? Math.min(MAX_RATE, Math.max(MIN_RATE, r)) : MIN_RATE;
}

/**
 * Handshakes per second of busy time, smoothed over the windows that had enough of them. The prior is only a
 * guess: the first window with FLOOR_SAMPLE handshakes or more replaces it, higher or lower.
 */
export class HandshakeRate {
  private rate: number;
  private hasMeasured = false;

  constructor(prior: number = DEFAULT_PRIOR_RATE) {
    this.rate = clampRate(prior);
  }

  get perSecond(): number {
    return this.rate;
  }

  /** True once a window replaced the prior. */
  get measured(): boolean {
    return this.hasMeasured;
  }

  /**
   * Folds one window in; false when the window was not used (too few handshakes, or mostly refusals and a rate
   * below the estimate).
   */
  observe(w: RateWindow): boolean {
    if (w.completed < MIN_SAMPLE) return false;
    const sample = clampRate((w.completed * 1000) / Math.max(MIN_ACTIVE_MS, w.activeMs));
    if (w.refused > MAX_REFUSED_SHARE * w.completed) {
      // A floor of the true rate: taken at once when above the estimate, with enough handshakes to trust it.
      if (sample <= this.rate || w.completed < FLOOR_SAMPLE) return false;
      this.rate = sample;
      this.hasMeasured = true;
      return true;
    }
    if (!this.hasMeasured && w.completed >= FLOOR_SAMPLE) {
      this.rate = sample;
      this.hasMeasured = true;
      return true;
    }
    const weight = WEIGHT * Math.min(1, w.completed / FULL_WEIGHT_AT);
    this.rate = clampRate(this.rate + weight * (sample - this.rate));
    return true;
  }
}

/**
 * The prior from the start-up warm-up (src/warmup.ts): `subscribed` real connect + subscribe handshakes took
 * `activeMs` of main-thread busy time in this process. The warm-up's clients run in the same process and its code
 * is still cold, so that rate is a floor of what the node can do (measured: 360-1,640/s where the node then did
 * 2,000-6,300/s in the burst): the prior is the default unless the floor is above it. A burst smaller than one
 * window was decided by the prior alone, and the floor refused half of a 2,000 burst that the node served in
 * 0.4 s with the guard off; the first measured window now replaces the prior within 128 admissions
 * (admission.ts), so a prior too high costs only those. Undefined when the warm-up did too little to say.
 */
export function rateFromWarmup(subscribed: number, activeMs: number): number | undefined {
  if (subscribed < 100 || !(activeMs > 0)) return undefined;
  return clampRate(Math.max(DEFAULT_PRIOR_RATE, (subscribed * 1000) / activeMs));
}

/** Below this many handshakes queued the queue part of the estimate is 0 (too few to matter). */
export const MIN_QUEUE_FOR_GUARD = 32;

export interface WaitInput {
  /** Event-loop lag now (ms). */
  lagMs: number;
  /** Upgraded connections of this process whose connect is not answered yet. */
  inFlight: number;
  /** Connections waiting in the kernel's accept queue of the listening port (when it was last read). */
  acceptQueue: number;
  /**
   * Connections this process accepted since `acceptQueue` was read: they left the kernel's queue and are counted
   * where they are now (parked, or in flight), so they come off this process's share of it. 0 when absent.
   */
  acceptedSinceRead?: number;
  /**
   * Connections this process accepted and parked (not reading yet, src/cluster/listen-copies.ts): its own, not
   * shared with the other workers. 0 when absent.
   */
  parked?: number;
  /**
   * Processes accepting from that queue (`node.workers_scheduling: none`: every worker reads the same shared
   * queue, and each drains only its part of it); 1 for a single process.
   */
  acceptors: number;
  /** Handshakes per second this process completes. */
  rate: number;
}

/**
 * Estimated wait (ms) of a client admitted now: the event-loop lag plus the handshakes ahead of it in this
 * process (in flight, parked, and its share of the accept queue less what it accepted since that was read: each
 * connection counted once) at the measured rate.
 */
export function estimatedWaitMs(i: WaitInput): number {
  const share = Math.max(0, i.acceptQueue / Math.max(1, i.acceptors) - (i.acceptedSinceRead ?? 0));
  const q = i.inFlight + (i.parked ?? 0) + share;
  const queueMs = q >= MIN_QUEUE_FOR_GUARD ? (q / clampRate(i.rate)) * 1000 : 0;
  return i.lagMs + queueMs;
}
