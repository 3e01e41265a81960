// `fanout`: N subscribers over C channels; publish at each staged rate for --duration, through the HTTP
// API or one client connection; per stage: deliveries/s, publish-to-deliver latency, sequence checks.
import { sourceAddressFor } from '../addresses.js';
import type { Totals } from '../aggregate.js';
import type { FanoutOptions } from '../options.js';
import { ClientPublisher, HttpPublisher } from '../publisher.js';
import type { Publisher } from '../publisher.js';
import type { StageReport } from '../report/json.js';
import { sleep } from '../runner.js';
import type { Deadline, WorkerGroup } from '../runner.js';
import { emptySequenceStats } from '../sequence.js';
import type { SequenceStats } from '../sequence.js';
import { TokenFactory } from '../token.js';
import type { RunContext, ScenarioRun } from './common.js';
import { runWithPool } from './common.js';

const MAX_INFLIGHT = 5000;
const TICK_MS = 2;
const DRAIN_QUIET_MS = 500;
const DRAIN_MAX_MS = 5000;

/** Subscribers of channel `ch` when client i subscribes to channel i % channels. */
export function subscribersOf(ch: number, clients: number, channels: number): number {
  return Math.floor(clients / channels) + (ch < clients % channels ? 1 : 0);
}

function seqDiff(a: SequenceStats, b: SequenceStats): SequenceStats {
  return {
    received: b.received - a.received,
    inOrder: b.inOrder - a.inOrder,
    gaps: b.gaps - a.gaps,
    missing: b.missing - a.missing,
    duplicates: b.duplicates - a.duplicates,
  };
}

async function publishAtRate(
  pub: Publisher,
  rate: number,
  durationMs: number,
  o: FanoutOptions,
  seqs: number[],
  deadline: Deadline,
): Promise<{ sent: number; perChannel: number[]; elapsedMs: number }> {
  const start = performance.now();
  const perChannel = new Array<number>(o.channels).fill(0);
  let sent = 0;
  let ch = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs || deadline.passed()) break;
    const due = Math.floor((elapsed / 1000) * rate) + 1;
    while (sent < due && pub.inflight < MAX_INFLIGHT) {
      const seq = (seqs[ch] ?? 0) + 1;
      seqs[ch] = seq;
      pub.publish(`${o.channelPrefix}${ch}`, seq);
      perChannel[ch] = (perChannel[ch] ?? 0) + 1;
      ch = (ch + 1) % o.channels;
      sent++;
    }
    await sleep(TICK_MS);
  }
  return { sent, perChannel, elapsedMs: performance.now() - start };
}

async function drain(g: WorkerGroup, pub: Publisher, deadline: Deadline): Promise<void> {
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

async function makePublisher(o: FanoutOptions): Promise<Publisher> {
  const local = sourceAddressFor(o.sourceIps, o.clients);
  if (o.publishVia === 'api') return new HttpPublisher(o.api, o.apiKey, o.size, local);
  const p = new ClientPublisher(o.url, local, o.connectTimeoutMs, o.size);
  const token =
    o.hmacSecret === null ? null : await new TokenFactory({ secret: o.hmacSecret, ttlSeconds: o.tokenTtlSeconds }).forUser(`${o.userPrefix}publisher`);
  const err = await p.connect(token);
  if (err !== null) throw new Error(`publisher connection failed: ${err}`);
  return p;
}

export function runFanout(o: FanoutOptions, ctx: RunContext): Promise<ScenarioRun> {
  return runWithPool(o, ctx, { channels: o.channels, reconnect: false, reconnectMaxDelayMs: 0 }, async (g) => {
    const pub = await makePublisher(o);
    const seqs = new Array<number>(o.channels).fill(0);
    const stages: StageReport[] = [];
    try {
      for (let i = 0; i < o.publishRates.length && !ctx.deadline.passed(); i++) {
        const rate = o.publishRates[i] ?? 1;
        const before: Totals = g.totals();
        const pubBefore = { sent: pub.stats.sent, ok: pub.stats.ok, failed: { ...pub.stats.failed } };
        ctx.log(`stage ${i + 1}/${o.publishRates.length}: publishing ${rate}/s for ${o.durationMs / 1000}s`);
        g.agg.beginStage();
        const r = await publishAtRate(pub, rate, o.durationMs, o, seqs, ctx.deadline);
        await drain(g, pub, ctx.deadline);
        const rec = g.agg.endStage();
        const after = g.totals();
        const failed: Record<string, number> = {};
        for (const [k, v] of Object.entries(pub.stats.failed)) {
          const d = v - (pubBefore.failed[k] ?? 0);
          if (d > 0) failed[k] = d;
        }
        const okThisStage = pub.stats.ok - pubBefore.ok;
        const connectedShare = o.clients > 0 ? after.connected / o.clients : 0;
        let expected = 0;
        for (let ch = 0; ch < o.channels; ch++) expected += (r.perChannel[ch] ?? 0) * subscribersOf(ch, o.clients, o.channels);
        const okShare = r.sent > 0 ? okThisStage / r.sent : 0;
        const secs = r.elapsedMs / 1000;
        const deliveries = after.deliveries - before.deliveries;
        stages.push({
          name: `${rate}/s`,
          publishRate: rate,
          durationSec: Math.round(secs * 10) / 10,
          publish: { sent: r.sent, ok: okThisStage, failed, achievedRate: Math.round(okThisStage / Math.max(0.001, secs)) },
          deliveries,
          expectedDeliveries: Math.round(expected * okShare * connectedShare),
          deliveriesPerSec: Math.round(deliveries / Math.max(0.001, secs)),
          latency: rec.latency.summary(),
          latencyBuckets: rec.latency.bucketList(),
          sequence: seqDiff(before.seq ?? emptySequenceStats(), after.seq),
        });
      }
    } finally {
      await pub.close();
    }
    return { stages };
  });
}
