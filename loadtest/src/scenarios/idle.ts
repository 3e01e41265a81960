// `idle`: hold N subscribed connections for --duration, answering pings; with --server-pid report the
// server's RSS per connection and CPU per connection per second.
import type { IdleOptions } from '../options.js';
import { sampleProcess, usageBetween } from '../server-stats.js';
import type { ProcSample } from '../server-stats.js';
import type { RunContext, ScenarioRun } from './common.js';
import { runWithPool } from './common.js';
import { HoldPublisher } from './hold-publish.js';

export async function runIdle(o: IdleOptions, ctx: RunContext): Promise<ScenarioRun> {
  const pid = o.serverPid;
  const before: ProcSample | null = pid === null ? null : sampleProcess(pid);
  if (pid !== null && before === null) ctx.log(`warning: cannot read /proc/${pid}; no server usage will be reported`);
  return runWithPool(o, ctx, { channels: o.channels, reconnect: false, reconnectMaxDelayMs: 0 }, async (g, warnings) => {
    const connected = g.totals().connected;
    const holdStart = pid === null ? null : sampleProcess(pid);
    const t0 = performance.now();
    ctx.log(`holding ${connected} connections for ${o.durationMs / 1000}s`);
    const pub = HoldPublisher.start(o, g, ctx);
    await g.waitFor(() => false, o.durationMs, 250);
    const heldSec = Math.round((performance.now() - t0) / 100) / 10;
    const end = pid === null ? null : sampleProcess(pid);
    const stages = pub === null ? undefined : [await pub.finish()];
    const stillConnected = g.totals().connected;
    if (stillConnected < connected) warnings.push(`${connected - stillConnected} connections dropped while idle`);
    if (pid === null || before === null || holdStart === null || end === null) return { heldSec, ...(stages !== undefined ? { stages } : {}) };
    // Memory: growth from before the first connection to the end of the hold. CPU: the hold phase only.
    const mem = usageBetween(pid, before, end, stillConnected);
    const cpu = usageBetween(pid, holdStart, end, stillConnected);
    return {
      heldSec,
      ...(stages !== undefined ? { stages } : {}),
      server: { ...mem, cpuSeconds: cpu.cpuSeconds, cpuPercent: cpu.cpuPercent, cpuPerConnectionPerSec: cpu.cpuPerConnectionPerSec },
    };
  });
}
