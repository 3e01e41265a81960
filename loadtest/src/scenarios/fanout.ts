// `fanout`: N subscribers over C channels; publish at each staged rate for --duration, through the HTTP
// API or one client connection; per stage: deliveries/s, publish-to-deliver latency, sequence checks.
import { sourceAddressFor } from '../addresses.js';
import type { FanoutOptions } from '../options.js';
import { ClientPublisher, HttpPublisher } from '../publisher.js';
import type { Publisher } from '../publisher.js';
import type { StageReport } from '../report/json.js';
import { TokenFactory } from '../token.js';
import type { RunContext, ScenarioRun } from './common.js';
import { runWithPool } from './common.js';
import { buildStage, drain, publishAtRate, snapshotStats } from './publish-loop.js';

export { subscribersOf } from './publish-loop.js';

async function makePublisher(o: FanoutOptions): Promise<Publisher> {
  const local = sourceAddressFor(o.sourceIps, o.clients);
  if (o.publishVia === 'api') return new HttpPublisher(o.api, o.apiKey, o.size, local);
  const p = new ClientPublisher(o.url, local, o.connectTimeoutMs, o.size);
  const token =
    o.hmacSecret === null ? null : new TokenFactory({ secret: o.hmacSecret, ttlSeconds: o.tokenTtlSeconds }).forUserSync(`${o.userPrefix}publisher`);
  const err = await p.connect(token);
  if (err !== null) throw new Error(`publisher connection failed: ${err}`);
  return p;
}

export function runFanout(o: FanoutOptions, ctx: RunContext): Promise<ScenarioRun> {
  return runWithPool(o, ctx, { channels: o.channels, reconnect: false, reconnectMaxDelayMs: 0, latencyDump: o.latencyDump }, async (g) => {
    const pub = await makePublisher(o);
    const seqs = new Array<number>(o.channels).fill(0);
    const stages: StageReport[] = [];
    try {
      for (let i = 0; i < o.publishRates.length && !ctx.deadline.passed(); i++) {
        const rate = o.publishRates[i] ?? 1;
        const before = g.totals();
        const pubBefore = snapshotStats(pub.stats);
        ctx.log(`stage ${i + 1}/${o.publishRates.length}: publishing ${rate}/s for ${o.durationMs / 1000}s`);
        g.agg.beginStage();
        const t0 = performance.now();
        const run = await publishAtRate(pub, rate, o.channels, o.channelPrefix, seqs, () => performance.now() - t0 >= o.durationMs, ctx.deadline);
        await drain(g, pub, ctx.deadline);
        const rec = g.agg.endStage();
        const after = g.totals();
        stages.push(
          buildStage({ name: `${rate}/s`, rate, run, before, after, pubBefore, pubAfter: pub.stats, latency: rec.latency, clients: o.clients, channels: o.channels }),
        );
      }
    } finally {
      await pub.close();
    }
    return { stages };
  });
}
