// Paced, jittered drain of all sessions on shutdown (docs/protocol.md §9.1): close with 3001 in batches with a small
// random pause between them, so reconnects spread out; bounded in total time (after the budget the rest is
// closed at once).
import { Disconnects } from '../protocol/errors.js';
import type { Session } from './session.js';

export interface DrainOptions {
  /** Total time budget for pacing (ms). */
  budgetMs: number;
  /** Sessions closed per batch (at least). */
  batchSize: number;
  /** Pause between batches: uniform in [minPauseMs, maxPauseMs). */
  minPauseMs: number;
  maxPauseMs: number;
}

export function defaultDrainOptions(shutdownTimeoutMs: number, count: number): DrainOptions {
  const budgetMs = Math.max(0, Math.min(5000, Math.floor(shutdownTimeoutMs / 3)));
  // Aim for ≤ ~50 batches whatever the count.
  const batchSize = Math.max(200, Math.ceil(count / 50));
  return { budgetMs, batchSize, minPauseMs: 5, maxPauseMs: 25 };
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

export async function drainSessions(sessions: readonly Session[], o: DrainOptions): Promise<void> {
  const started = Date.now();
  for (let i = 0; i < sessions.length; i += o.batchSize) {
    const end = Math.min(sessions.length, i + o.batchSize);
    for (let j = i; j < end; j++) sessions[j]!.close(Disconnects.shutdown());
    if (end >= sessions.length) break;
    const left = o.budgetMs - (Date.now() - started);
    if (left <= 0) continue; // out of budget: close the rest without pauses
    await sleep(Math.min(left, o.minPauseMs + Math.random() * (o.maxPauseMs - o.minPauseMs)));
  }
}
