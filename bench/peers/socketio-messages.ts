// Messages between the Socket.IO driver and its worker threads, plus the naming both sides share.
import type { SerializedRecorder } from '../../loadtest/src/histogram.js';

/** Channel of connection i, as gyre-bench names them (--channel-prefix bench-, client i → channel i % n). */
export const channelOf = (i: number, channels: number): string => `bench-${i % channels}`;

/** The send time gyre-bench's publisher puts in every payload ({"seq":n,"ts":ms,"pad":"…"}). */
export function sendTimeOf(data: unknown): number | null {
  if (typeof data !== 'object' || data === null) return null;
  const t = (data as Record<string, unknown>)['ts'];
  return typeof t === 'number' ? t : null;
}

export type ToWorker =
  | { type: 'connect'; url: string; first: number; count: number; channels: number; concurrency: number; timeoutMs: number }
  | { type: 'stage-begin' }
  /** final: stop counting and hand over the latency histogram; otherwise just the delivery count so far. */
  | { type: 'report'; final: boolean }
  | { type: 'close' };

export type FromWorker =
  | { type: 'connected'; subscribed: number; failures: number; firstStartMs: number; lastDoneMs: number; tts: SerializedRecorder | null }
  | { type: 'report'; deliveries: number; latency: SerializedRecorder | null }
  | { type: 'closed' };

