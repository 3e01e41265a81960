// Paced, jittered drain of all sessions on shutdown (docs/protocol.md §9.1, docs/storm.md §2): every session is
// closed with 3001 at its own moment, spread evenly over the drain window. The window is cut into N equal
// slots (N sessions, in shuffled order) and each session closes at a uniformly random point of its slot, so
// the reconnects arrive at the other nodes at a steady rate of about N / window instead of all at once.
// Window 0 closes everyone at once (Centrifugo's behaviour).
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.js';
import { Disconnects } from '../protocol/errors.js';
import type { Session } from './session.js';

export interface DrainOptions {
  /** The window over which closes are spread (ms); 0 = all at once. */
  windowMs: number;
  /** Timer granularity (ms): each tick closes the sessions whose moment has come. */
  tickMs?: number;
  rand?: () => number;
}

export const drainMetrics = {
  draining: new Gauge({
    name: 'gyre_drain_active',
    help: '1 while this node drains its clients on shutdown (not ready), 0 otherwise',
    registers: [registry],
  }),
  remaining: new Gauge({
    name: 'gyre_drain_remaining_clients',
    help: 'Clients not yet closed by the running drain',
    registers: [registry],
  }),
  closed: new Counter({
    name: 'gyre_drain_closed_total',
    help: 'Clients closed with 3001 by a drain',
    registers: [registry],
  }),
};

/**
 * The drain window that fits `shutdown.timeout`: at most `drainMs`, and leaving the last quarter of the
 * timeout (at most 3 s) plus the pre-drain delay for the close handshakes and the engine.
 */
export function effectiveDrainWindow(drainMs: number, timeoutMs: number, preDrainMs: number): number {
  const reserve = Math.min(3000, timeoutMs / 4);
  return Math.max(0, Math.min(drainMs, timeoutMs - preDrainMs - reserve));
}

/** The close moments (ms from the start) for `n` sessions over `windowMs`: one per slot, jittered within it. */
export function drainSchedule(n: number, windowMs: number, rand: () => number = Math.random): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = windowMs <= 0 ? 0 : (windowMs * (i + rand())) / n;
  return out;
}

function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i] as T;
    a[i] = a[j] as T;
    a[j] = t;
  }
  return a;
}

export async function drainSessions(sessions: readonly Session[], o: DrainOptions): Promise<void> {
  const rand = o.rand ?? Math.random;
  const order = shuffle([...sessions], rand);
  const at = drainSchedule(order.length, o.windowMs, rand);
  const tick = o.tickMs ?? 10;
  drainMetrics.draining.set(1);
  drainMetrics.remaining.set(order.length);
  const started = performance.now();
  let next = 0;
  const closeDue = (): void => {
    const elapsed = performance.now() - started;
    let n = 0;
    while (next < order.length && (at[next] as number) <= elapsed) {
      (order[next] as Session).close(Disconnects.shutdown());
      next++;
      n++;
    }
    if (n > 0) {
      drainMetrics.closed.inc(n);
      drainMetrics.remaining.set(order.length - next);
    }
  };
  closeDue();
  while (next < order.length) {
    const wait = Math.max(1, Math.min(tick, (at[next] as number) - (performance.now() - started)));
    await new Promise<void>((resolve) => {
      setTimeout(resolve, wait);
    });
    closeDue();
  }
  drainMetrics.remaining.set(0);
}
