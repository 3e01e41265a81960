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
  /**
   * Explicit source ports when binding to source addresses (avoids the kernel's slow port search on bind):
   * client g, attempt k gets port low + (offset + floor(g / A) + k * ceil(totalClients / A)) mod (high-low+1),
   * A = addresses of its pool. Absent = no bind, or port 0.
   */
  bindPorts?: { low: number; high: number; offset: number; totalClients: number };
  /** Subscribe with `recoverable:true` and resubscribe with `recover:true, offset, epoch` (history channels). */
  recover?: boolean;
  tickMs: number;
  /** Write every delivery to `<latencyDump>.w<workerId>` when the pool stops (see LatencyDump). */
  latencyDump?: string;
}

/** Outcome of resubscribes that asked for recovery (counted by the pool, summed by the runner). */
export interface RecoveryStats {
  /** Resubscribes sent with `recover:true`. */
  requested: number;
  /** Replies with `recovered:true`. */
  recovered: number;
  /** Replies with `recovered:false` (publications missed while away are lost for that client). */
  notRecovered: number;
  /** Publications delivered inside subscribe replies. */
  recoveredPublications: number;
  /** Publications known to be lost: `top - offset` of unrecovered replies in the same epoch. */
  lostPublications: number;
  /** Unrecovered replies whose epoch changed (the stream was recreated; loss cannot be counted). */
  epochChanged: number;
}

export function emptyRecoveryStats(): RecoveryStats {
  return { requested: 0, recovered: 0, notRecovered: 0, recoveredPublications: 0, lostPublications: 0, epochChanged: 0 };
}

export function addRecoveryStats(into: RecoveryStats, from: RecoveryStats): void {
  into.requested += from.requested;
  into.recovered += from.recovered;
  into.notRecovered += from.notRecovered;
  into.recoveredPublications += from.recoveredPublications;
  into.lostPublications += from.lostPublications;
  into.epochChanged += from.epochChanged;
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
  /** Successful connect replies of reconnecting clients per 100 ms bucket (key: floor(epoch ms / 100)). */
  connectBuckets: Record<string, number>;
  /** Recovery outcomes of resubscribes (absent from older senders). */
  recovery?: RecoveryStats;
  /** ms from `start` until this pool had issued its last first-attempt open (null while still opening). */
  openSpanMs?: number | null;
}

export type FromWorker =
  | { type: 'prepared'; workerId: number }
  | { type: 'tick'; tick: WorkerTick; proc?: ProcCpu }
  | { type: 'stopped'; tick: WorkerTick; proc?: ProcCpu }
  | { type: 'fatal'; workerId: number; message: string };

/** CPU time of a generator child process, attached by the child to the ticks it relays. */
export interface ProcCpu {
  pid: number;
  /** process.cpuUsage() user + system, µs, all threads of that process. */
  cpuUs: number;
}

/** Parent → child process (multi-process mode): spawn the listed pools, then relay ToWorker broadcasts. */
export type ToChild =
  | { type: 'spawn'; threads: boolean; slots: { workerId: number; config: PoolConfig }[] }
  | { type: 'relay'; msg: ToWorker };
