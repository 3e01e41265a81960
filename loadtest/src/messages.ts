// Messages between the runner (main thread) and its worker threads. Plain structured-clone data.
import type { SerializedRecorder } from './histogram.js';
import type { SequenceStats } from './sequence.js';

export interface PoolConfig {
  url: string;
  /** Global index of this worker's first client and the number of clients it owns. */
  firstIndex: number;
  count: number;
  sourceAddresses: string[];
  /** Channels are `${channelPrefix}${index % channels}`; 0 channels = connect without subscribing. */
  channelPrefix: string;
  channels: number;
  userPrefix: string;
  hmacSecret: string | null;
  tokenTtlSeconds: number;
  connectTimeoutMs: number;
  /** New connections per second for this worker; 0 = all at once. */
  ratePerSec: number;
  /** Reconnect dropped clients after a full-jitter delay in [0, maxDelayMs]. */
  reconnect: boolean;
  reconnectMaxDelayMs: number;
  tickMs: number;
}

export type ToWorker =
  | { type: 'init'; workerId: number; config: PoolConfig }
  | { type: 'start' }
  | { type: 'flush' }
  | { type: 'stop' };

export interface WorkerTick {
  workerId: number;
  /** Clients currently subscribed. */
  connected: number;
  /** Clients with an attempt in flight. */
  connecting: number;
  /** Clients that finished their first attempt (subscribed or failed). */
  settled: number;
  subscribedOnce: number;
  attempts: number;
  failures: Record<string, number>;
  drops: Record<string, number>;
  reconnectFailures: Record<string, number>;
  reconnected: number;
  deliveries: number;
  pings: number;
  seq: SequenceStats;
  /** Interval data, reset after each tick. */
  connectHist: SerializedRecorder | null;
  reconnectHist: SerializedRecorder | null;
  latencyHist: SerializedRecorder | null;
  /** Successful connect replies per 100 ms bucket (key: floor(epoch ms / 100)). */
  connectBuckets: Record<string, number>;
}

export type FromWorker =
  | { type: 'prepared'; workerId: number }
  | { type: 'tick'; tick: WorkerTick }
  | { type: 'stopped'; tick: WorkerTick }
  | { type: 'fatal'; workerId: number; message: string };
