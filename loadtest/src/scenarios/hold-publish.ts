// `--publish-rate` for connect/idle/storm: publishes through the HTTP API while the connections are held,
// in the background, so that the sequence checks (gaps, duplicates) and storm recovery have a stream to
// check. Ends with a drain and one StageReport named "hold".
import { sourceAddressFor } from '../addresses.js';
import type { Totals } from '../aggregate.js';
import type { CommonOptions, HoldPublishOptions } from '../options.js';
import { HttpPublisher } from '../publisher.js';
import type { PublishStats } from '../publisher.js';
import type { StageReport } from '../report/json.js';
import type { WorkerGroup } from '../runner.js';
import type { RunContext } from './common.js';
import { buildStage, drain, publishAtRate, snapshotStats } from './publish-loop.js';
import type { PublishRun } from './publish-loop.js';

export class HoldPublisher {
  private stopped = false;
  private readonly loop: Promise<PublishRun>;
  private readonly before: Totals;
  private readonly pubBefore: PublishStats;

  private constructor(
    private readonly o: CommonOptions & HoldPublishOptions,
    private readonly g: WorkerGroup,
    private readonly ctx: RunContext,
    private readonly pub: HttpPublisher,
  ) {
    this.before = g.totals();
    this.pubBefore = snapshotStats(pub.stats);
    g.agg.beginStage();
    const seqs = new Array<number>(o.channels).fill(0);
    this.loop = publishAtRate(pub, o.holdPublishRate, o.channels, o.channelPrefix, seqs, () => this.stopped, ctx.deadline);
  }

  /** Starts publishing when `--publish-rate` was given; null otherwise. */
  static start(o: CommonOptions & HoldPublishOptions, g: WorkerGroup, ctx: RunContext): HoldPublisher | null {
    if (o.holdPublishRate <= 0) return null;
    ctx.log(`publishing ${o.holdPublishRate}/s over ${o.channels} channel(s) through ${o.api} during the hold`);
    const pub = new HttpPublisher(o.api, o.apiKey, o.size, sourceAddressFor(o.sourceIps, o.clients));
    return new HoldPublisher(o, g, ctx, pub);
  }

  /** Stops publishing, waits for deliveries to settle, and reports the phase. */
  async finish(): Promise<StageReport> {
    this.stopped = true;
    const run = await this.loop;
    try {
      await drain(this.g, this.pub, this.ctx.deadline);
    } finally {
      await this.pub.close();
    }
    const rec = this.g.agg.endStage();
    return buildStage({
      name: 'hold',
      rate: this.o.holdPublishRate,
      run,
      before: this.before,
      after: this.g.totals(),
      pubBefore: this.pubBefore,
      pubAfter: this.pub.stats,
      latency: rec.latency,
      clients: this.o.clients,
      channels: this.o.channels,
    });
  }
}
