// The machine-readable run report: every number the run produced, in one JSON document.
import { writeFileSync } from 'node:fs';
import type { Aggregator, SeriesPoint } from '../aggregate.js';
import type { Bucket, LatencySummary } from '../histogram.js';
import type { LimitCheck } from '../limits.js';
import type { PublishStats } from '../publisher.js';
import type { SequenceStats } from '../sequence.js';
import type { ServerUsage } from '../server-stats.js';

export const REPORT_VERSION = 1;

export type StopReason = 'completed' | 'timeout' | 'interrupted' | 'error';

export interface StageReport {
  name: string;
  publishRate: number;
  durationSec: number;
  publish: PublishStats & { achievedRate: number };
  deliveries: number;
  expectedDeliveries: number;
  deliveriesPerSec: number;
  latency: LatencySummary;
  latencyBuckets: Bucket[];
  sequence: SequenceStats;
}

export interface StormReport {
  trigger: 'restart-cmd' | 'wait-drop';
  restartExitCode: number | null;
  dropped: number;
  resubscribed: number;
  /** Seconds from the first drop until the last re-subscribe (or the end of the wait). */
  recoverySec: number;
  reconnectTime: LatencySummary;
  reconnectBuckets: Bucket[];
  reconnectFailures: Record<string, number>;
  /** Connect replies per 100 ms bucket, from the moment the drop phase began. */
  connectRate: { atMs: number; count: number }[];
  peakConnectsPer100ms: number;
  /** Present when clients asked for recovery on resubscribe. */
  recovery?: RecoveryReport;
}

/** How the generator ran and what it cost (to tell generator limits from server limits). */
export interface GeneratorReport {
  /** inline (main thread), compiled (running from dist), dist (TS runner, compiled workers) or tsx. */
  mode: string;
  processes: number;
  pools: number;
  /** Spawning workers, signing tokens and encoding first frames (before the measured phase). */
  prepareMs: number;
  connectPhase: {
    wallMs: number;
    /** CPU of every generator thread and process from start until every client settled. */
    cpuMs: number;
    cpuUsPerAttempt: number | null;
    /** ms until every first-attempt open had been issued (all at once: how long the burst took to issue). */
    openSpanMs: number | null;
  };
}

/** Outcome of recovery on resubscribe (storm with history channels). */
export interface RecoveryReport {
  requested: number;
  recovered: number;
  notRecovered: number;
  recoveredPublications: number;
  /** Known lost publications: skipped by unrecovered resubscribes (same epoch) plus gaps seen while holding. */
  lostPublications: number;
  epochChanged: number;
}

export interface ScenarioExtras {
  generator?: GeneratorReport;
  stages?: StageReport[];
  storm?: StormReport;
  server?: ServerUsage;
  heldSec?: number;
}

export interface RunReport {
  tool: 'gyre-bench';
  version: number;
  scenario: string;
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  stopReason: StopReason;
  error: string | null;
  options: Record<string, unknown>;
  limits: LimitCheck;
  warnings: string[];
  clients: {
    requested: number;
    subscribed: number;
    connectedAtEnd: number;
    attempts: number;
    failed: number;
    failures: Record<string, number>;
    drops: Record<string, number>;
  };
  timeToSubscribed: LatencySummary;
  timeToSubscribedBuckets: Bucket[];
  deliveries: { total: number; latency: LatencySummary; latencyBuckets: Bucket[] };
  sequence: SequenceStats;
  pingsReceived: number;
  series: SeriesPoint[];
  stages: StageReport[];
  storm: StormReport | null;
  server: ServerUsage | null;
  heldSec: number | null;
  /** Added in gyre-bench report version 1 (backward compatible): generator cost of the connect phase. */
  generator: GeneratorReport | null;
}

export interface ReportInput {
  scenario: string;
  startedAt: number;
  finishedAt: number;
  stopReason: StopReason;
  error: string | null;
  options: object;
  limits: LimitCheck;
  warnings: string[];
  clientsRequested: number;
  agg: Aggregator;
  extras: ScenarioExtras;
}

function sum(m: Record<string, number>): number {
  let s = 0;
  for (const v of Object.values(m)) s += v;
  return s;
}

/** Options minus secrets. */
export function redactOptions(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] = /secret|key/i.test(k) && v !== null && v !== undefined ? '***' : v;
  }
  return out;
}

export function buildReport(i: ReportInput): RunReport {
  const t = i.agg.totals();
  return {
    tool: 'gyre-bench',
    version: REPORT_VERSION,
    scenario: i.scenario,
    startedAt: new Date(i.startedAt).toISOString(),
    finishedAt: new Date(i.finishedAt).toISOString(),
    durationSec: Math.round((i.finishedAt - i.startedAt) / 100) / 10,
    stopReason: i.stopReason,
    error: i.error,
    options: redactOptions(i.options),
    limits: i.limits,
    warnings: i.warnings,
    clients: {
      requested: i.clientsRequested,
      subscribed: t.subscribedOnce,
      connectedAtEnd: t.connected,
      attempts: t.attempts,
      failed: sum(t.failures),
      failures: t.failures,
      drops: t.drops,
    },
    timeToSubscribed: i.agg.connectHist.summary(),
    timeToSubscribedBuckets: i.agg.connectHist.bucketList(),
    deliveries: {
      total: t.deliveries,
      latency: i.agg.latencyHist.summary(),
      latencyBuckets: i.agg.latencyHist.bucketList(),
    },
    sequence: t.seq,
    pingsReceived: t.pings,
    series: i.agg.series,
    stages: i.extras.stages ?? [],
    storm: i.extras.storm ?? null,
    server: i.extras.server ?? null,
    heldSec: i.extras.heldSec ?? null,
    generator: i.extras.generator ?? null,
  };
}

export function writeJsonReport(path: string, r: RunReport): void {
  writeFileSync(path, JSON.stringify(r, null, 2) + '\n');
}
