// `storm`: N subscribed clients; the server is restarted (--restart-cmd, run by the tool) or drains them
// (--wait-drop). Clients reconnect after a full-jitter delay in [0, --max-delay]; we measure the
// drop → re-subscribed distribution and the connects per 100 ms the server handled.
import { spawn } from 'node:child_process';
import type { Totals } from '../aggregate.js';
import type { StormOptions } from '../options.js';
import type { StageReport, StormReport } from '../report/json.js';
import type { Deadline } from '../runner.js';
import type { RunContext, ScenarioRun } from './common.js';
import { runWithPool } from './common.js';
import { HoldPublisher } from './hold-publish.js';
import { nowMs } from '../clock.js';

/** Publishing continues this long after the last client is back, so live delivery after recovery is checked. */
const PUBLISH_TAIL_MS = 500;

function sum(m: Record<string, number>): number {
  let s = 0;
  for (const v of Object.values(m)) s += v;
  return s;
}

/** Runs `cmd` through /bin/sh; resolves to its exit code (null when killed at the deadline). */
export function runShell(cmd: string, deadline: Deadline, log: (l: string) => void): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(1, deadline.remaining()));
    const relay = (b: Buffer): void => {
      for (const line of b.toString().split('\n')) if (line.trim() !== '') log(`[restart-cmd] ${line}`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', (err) => {
      log(`[restart-cmd] failed to start: ${err.message}`);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export function runStorm(o: StormOptions, ctx: RunContext): Promise<ScenarioRun> {
  const shape = { channels: o.channels, reconnect: true, reconnectMaxDelayMs: o.maxDelayMs, recover: o.recover, tickMs: 200 };
  return runWithPool(o, ctx, shape, async (g, warnings) => {
    const pub = HoldPublisher.start(o, g, ctx);
    if (pub !== null) await g.waitFor(() => false, 300, 50); // let the stream start before the trigger
    const base: Totals = g.totals();
    const dropsBefore = sum(base.drops);
    const reconnectedBefore = base.reconnected;
    // The connect-rate buckets count reconnects only (conn-pool), so the window can start now.
    const stormStartEpoch = nowMs();
    const t0 = performance.now();
    let exitCode: number | null = null;
    let trigger: StormReport['trigger'] = 'wait-drop';
    let restart: Promise<number | null> | null = null;
    if (o.restartCmd !== null) {
      trigger = 'restart-cmd';
      ctx.log(`running restart command: ${o.restartCmd}`);
      restart = runShell(o.restartCmd, ctx.deadline, ctx.log);
    } else {
      ctx.log(`waiting up to ${o.durationMs / 1000}s for the server to drop clients`);
    }
    const dropped = (t: Totals): number => sum(t.drops) - dropsBefore;
    await g.waitFor((t) => dropped(t) > 0, o.durationMs, 20);
    const firstDropAt = performance.now();
    if (dropped(g.totals()) === 0) warnings.push('no client was dropped during the storm window');
    else ctx.log(`drops started ${((firstDropAt - t0) / 1000).toFixed(2)}s after the trigger; waiting for reconnects`);
    // Everyone who dropped must be back; drops may keep coming for a while (drains are paced).
    let lastDropCount = -1;
    let stableSince = performance.now();
    await g.waitFor(
      (t) => {
        const d = dropped(t);
        if (d !== lastDropCount) {
          lastDropCount = d;
          stableSince = performance.now();
        }
        return d > 0 && t.reconnected - reconnectedBefore >= d && performance.now() - stableSince > 200;
      },
      o.durationMs,
      20,
    );
    const recoveredAt = performance.now();
    if (restart !== null) exitCode = await restart;
    let stages: StageReport[] = [];
    if (pub !== null) {
      await g.waitFor(() => false, PUBLISH_TAIL_MS, 50);
      stages = [await pub.finish()];
    }
    await g.flush();
    const t = g.totals();
    const rate = g.agg.connectRate(stormStartEpoch);
    const peak = rate.reduce((m, b) => Math.max(m, b.count), 0);
    const droppedN = dropped(t);
    const back = t.reconnected - reconnectedBefore;
    if (back < droppedN) warnings.push(`${droppedN - back} dropped clients were not re-subscribed within ${o.durationMs / 1000}s`);
    const storm: StormReport = {
      trigger,
      restartExitCode: exitCode,
      dropped: droppedN,
      resubscribed: back,
      recoverySec: Math.round((recoveredAt - firstDropAt) / 10) / 100,
      reconnectTime: g.agg.reconnectHist.summary(),
      reconnectBuckets: g.agg.reconnectHist.bucketList(),
      reconnectFailures: t.reconnectFailures,
      connectRate: rate,
      peakConnectsPer100ms: peak,
    };
    if (o.recover) {
      const r = t.recovery;
      const b = base.recovery;
      const gapsMissing = stages[0]?.sequence.missing ?? 0;
      storm.recovery = {
        requested: r.requested - b.requested,
        recovered: r.recovered - b.recovered,
        notRecovered: r.notRecovered - b.notRecovered,
        recoveredPublications: r.recoveredPublications - b.recoveredPublications,
        lostPublications: r.lostPublications - b.lostPublications + gapsMissing,
        epochChanged: r.epochChanged - b.epochChanged,
      };
      if (storm.recovery.requested === 0 && droppedN > 0) {
        warnings.push('no resubscribe asked for recovery: the channels have no history/recovery (no epoch in the subscribe reply)');
      }
    }
    return { storm, ...(stages.length > 0 ? { stages } : {}) };
  });
}
