// `connect`: N clients all at once or ramped; each sends connect + subscribe in its first frame. The
// measurement (time-to-subscribed, failures by cause) is taken by the pool; this only holds and ends,
// publishing during the hold when `--publish-rate` is given.
import type { ConnectOptions } from '../options.js';
import type { RunContext, ScenarioRun } from './common.js';
import { runWithPool } from './common.js';
import { HoldPublisher } from './hold-publish.js';

export function runConnect(o: ConnectOptions, ctx: RunContext): Promise<ScenarioRun> {
  return runWithPool(o, ctx, { channels: o.channels, reconnect: false, reconnectMaxDelayMs: 0 }, async (g) => {
    const pub = o.holdMs > 0 ? HoldPublisher.start(o, g, ctx) : null;
    if (o.holdMs > 0) {
      ctx.log(`holding for ${o.holdMs / 1000}s`);
      await g.waitFor(() => false, o.holdMs, 250);
    }
    const stages = pub === null ? [] : [await pub.finish()];
    return { heldSec: o.holdMs / 1000, ...(stages.length > 0 ? { stages } : {}) };
  });
}
