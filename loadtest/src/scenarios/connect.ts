// `connect`: N clients all at once or ramped; each sends connect + subscribe in its first frame. The
// measurement (time-to-subscribed, failures by cause) is taken by the pool; this only holds and ends.
import type { ConnectOptions } from '../options.js';
import type { RunContext, ScenarioRun } from './common.js';
import { runWithPool } from './common.js';

export function runConnect(o: ConnectOptions, ctx: RunContext): Promise<ScenarioRun> {
  return runWithPool(o, ctx, { channels: 1, reconnect: false, reconnectMaxDelayMs: 0 }, async (g) => {
    if (o.holdMs > 0) {
      ctx.log(`holding for ${o.holdMs / 1000}s`);
      await g.waitFor(() => false, o.holdMs, 250);
    }
    return { heldSec: o.holdMs / 1000 };
  });
}
