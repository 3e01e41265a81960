// Publishing at a fixed rate round-robin over the channels, draining deliveries afterwards, and turning one
// publishing phase into a StageReport. Shared by fanout (staged rates) and by connect/idle/storm
// (`--publish-rate` during the hold).
import type { Totals } from '../aggregate.js';
import type { LatencyRecorder } from '../histogram.js';
import type { Publisher, PublishStats } from '../publisher.js';
import type { StageReport } from '../report/json.js';
import { sleep } from '../runner.js';
import type { Deadline, WorkerGroup } from '../runner.js';
import { emptySequenceStats } from '../sequence.js';
import type { SequenceStats } from '../sequence.js';

const MAX_INFLIGHT = 5000;
const TICK_MS = 2;
const DRAIN_QUIET_MS = 500;
const DRAIN_MAX_MS = 5000;

/** Subscribers of channel `ch` when client i subscribes to channel i % channels. */
export function subscribersOf(ch: number, clients: number, channels: number): number {
  return Math.floor(clients / channels) + (ch < clients % channels ? 1 : 0);
}

export function seqDiff(a: SequenceStats, b: SequenceStats): SequenceStats {
  return {
    received: b.received - a.received,
    inOrder: b.inOrder - a.inOrder,
    gaps: b.gaps - a.gaps,
    missing: b.missing - a.missing,
    duplicates: b.duplicates - a.duplicates,
  };
}

export interface PublishRun {
  sent: number;
  perChannel: number[];
  elapsedMs: number;
}

/**
 * Publishes `rate`/s round-robin over `channels` (payload seq per channel continues `seqs`) until `until()`
 * holds or the deadline passes; at most MAX_INFLIGHT requests are queued.
 */
export async function publishAtRate(
  pub: Publisher,
  rate: number,
  channels: number,
  prefix: string,
  seqs: number[],
  until: () => boolean,
  deadline: Deadline,
): Promise<PublishRun> {
  const start = performance.now();
  const perChannel = new Array<number>(channels).fill(0);
  let sent = 0;
  let ch = 0;
  while (!until() && !deadline.passed()) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) + 1;
    while (sent < due && pub.inflight < MAX_INFLIGHT) {
      const seq = (seqs[ch] ?? 0) + 1;
      seqs[ch] = seq;
      pub.publish(`${prefix}${ch}`, seq);
      perChannel[ch] = (perChannel[ch] ?? 0) + 1;
      ch = (ch + 1) % channels;
      sent++;
    }
    await sleep(TICK_MS);
  }
  return { sent, perChannel, elapsedMs: performance.now() - start };
}

/** Waits for outstanding publishes, then until deliveries stay flat for DRAIN_QUIET_MS (bounded). */
export async function drain(g: WorkerGroup, pub: Publisher, deadline: Deadline): Promise<void> {
  const pubEnd = performance.now() + DRAIN_MAX_MS;
  while (pub.inflight > 0 && performance.now() < pubEnd && !deadline.passed()) await sleep(10);
  const end = performance.now() + DRAIN_MAX_MS;
  let last = -1;
  let quietSince = performance.now();
  while (performance.now() < end && !deadline.passed()) {
    await g.flush(500);
    const d = g.totals().deliveries;
    if (d !== last) {
      last = d;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= DRAIN_QUIET_MS) return;
    await sleep(100);
  }
}

export function snapshotStats(s: PublishStats): PublishStats {
  return { sent: s.sent, ok: s.ok, failed: { ...s.failed } };
}

export interface StageInput {
  name: string;
  rate: number;
  run: PublishRun;
  before: Totals;
  after: Totals;
  pubBefore: PublishStats;
  pubAfter: PublishStats;
  latency: LatencyRecorder;
  clients: number;
  channels: number;
  /** Share of clients expected to receive (connected at the end); default connected / clients. */
  receivingShare?: number;
}

export function buildStage(i: StageInput): StageReport {
  const failed: Record<string, number> = {};
  for (const [k, v] of Object.entries(i.pubAfter.failed)) {
    const d = v - (i.pubBefore.failed[k] ?? 0);
    if (d > 0) failed[k] = d;
  }
  const ok = i.pubAfter.ok - i.pubBefore.ok;
  const share = i.receivingShare ?? (i.clients > 0 ? i.after.connected / i.clients : 0);
  let expected = 0;
  for (let ch = 0; ch < i.channels; ch++) expected += (i.run.perChannel[ch] ?? 0) * subscribersOf(ch, i.clients, i.channels);
  const okShare = i.run.sent > 0 ? ok / i.run.sent : 0;
  const secs = i.run.elapsedMs / 1000;
  const deliveries = i.after.deliveries - i.before.deliveries;
  return {
    name: i.name,
    publishRate: i.rate,
    durationSec: Math.round(secs * 10) / 10,
    publish: { sent: i.run.sent, ok, failed, achievedRate: Math.round(ok / Math.max(0.001, secs)) },
    deliveries,
    expectedDeliveries: Math.round(expected * okShare * share),
    deliveriesPerSec: Math.round(deliveries / Math.max(0.001, secs)),
    latency: i.latency.summary(),
    latencyBuckets: i.latency.bucketList(),
    sequence: seqDiff(i.before.seq ?? emptySequenceStats(), i.after.seq),
  };
}
