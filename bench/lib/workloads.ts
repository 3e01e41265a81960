// The workloads of the benchmark table, as data: what each peer is asked to do. The same spec drives
// gyre-bench (Centrifugo protocol) and the Socket.IO driver, so every peer gets identical work.

export interface BurstWorkload {
  readonly kind: 'burst';
  readonly id: string;
  /** Connections opened as fast as possible, each subscribing to one channel. */
  readonly connections: number;
  /** Max connect+subscribe attempts in flight at once (across all workers). */
  readonly concurrency: number;
  readonly channels: number;
}

export interface IdleWorkload {
  readonly kind: 'idle';
  readonly id: string;
  readonly connections: number;
  readonly concurrency: number;
  readonly channels: number;
  /** Idle hold after every connection is subscribed; RSS is read at its end, CPU over it. */
  readonly holdSec: number;
}

export interface FanoutWorkload {
  readonly kind: 'fanout';
  readonly id: string;
  /** 'fanout' rows report throughput and cost; 'latency' rows latency at a fixed load. */
  readonly group: 'fanout' | 'latency';
  readonly channels: number;
  readonly subscribersPerChannel: number;
  /** Publications per second over all channels (round-robin across channels). */
  readonly publishRate: number;
  /** A first stage at the same rate, not measured; 0 = none. Drivers run it as long as a stage. */
  readonly warmupSec: number;
  readonly durationSec: number;
  readonly payloadBytes: number;
  readonly concurrency: number;
}

export type Workload = BurstWorkload | IdleWorkload | FanoutWorkload;

export interface TableSizes {
  readonly burstConnections: number;
  readonly idleConnections: number;
  readonly idleHoldSec: number;
  readonly fanoutDurationSec: number;
}

export const FULL_SIZES: TableSizes = {
  burstConnections: 10_000,
  idleConnections: 15_000,
  idleHoldSec: 30, // > the 25 s ping interval, so every peer pings every connection at least once
  fanoutDurationSec: 10,
};

/** Divides every connection count by `factor` (rounded, at least 1); used by --quick (factor 10). */
export function shrink(n: number, factor: number): number {
  return Math.max(1, Math.round(n / factor));
}

/**
 * The table's workload list, in a fixed order. `factor` 10 is --quick: every N (connections, subscribers,
 * channels) shrinks 10×, publish rates stay, durations shorten.
 */
export function tableWorkloads(factor = 1): Workload[] {
  const q = factor > 1;
  const s = (n: number): number => shrink(n, factor);
  // The warm-up is a first stage at the same rate (gyre-bench `--publish-rate R,R`), so it lasts a stage.
  const dur = q ? 3 : FULL_SIZES.fanoutDurationSec;
  const warm = dur;
  // All connects at once (gyre-bench --rate 0); clients of burst/idle all subscribe one channel (as gyre-bench).
  const burstN = s(FULL_SIZES.burstConnections);
  const idleN = s(FULL_SIZES.idleConnections);
  const list: Workload[] = [
    { kind: 'burst', id: 'burst', connections: burstN, concurrency: burstN, channels: 1 },
    {
      kind: 'idle',
      id: 'idle',
      connections: idleN,
      concurrency: idleN,
      channels: 1,
      holdSec: q ? 5 : FULL_SIZES.idleHoldSec,
    },
  ];
  const fan = (group: 'fanout' | 'latency', channels: number, subs: number, rate: number): FanoutWorkload => ({
    kind: 'fanout',
    id: `${group}-${channels}x${subs}@${rate}`,
    group,
    channels,
    subscribersPerChannel: subs,
    publishRate: rate,
    warmupSec: warm,
    durationSec: dur,
    payloadBytes: 128,
    concurrency: channels * subs,
  });
  // 1 channel × 10,000 subscribers: deliveries/s = rate × 10,000.
  for (const rate of [1, 5, 20]) list.push(fan('fanout', 1, s(10_000), rate));
  // 1,000 channels × 10 subscribers: deliveries/s = rate × 10.
  for (const rate of [100, 1000, 3000]) list.push(fan('fanout', s(1000), 10, rate));
  list.push(fan('latency', 1, s(1000), 50));
  list.push(fan('latency', 1, s(10_000), 5));
  return list;
}

/** Deliveries per second the workload should produce if nothing is lost. */
export function expectedDeliveryRate(w: FanoutWorkload): number {
  return w.publishRate * w.subscribersPerChannel;
}
