// Human-readable summary printed at the end of a run.
import type { LatencySummary } from '../histogram.js';
import type { RunReport } from './json.js';

export function formatLatency(l: LatencySummary): string {
  if (l.count === 0) return 'n/a';
  return `p50 ${l.p50}ms  p90 ${l.p90}ms  p99 ${l.p99}ms  p99.9 ${l.p999}ms  max ${l.max}ms  (n=${l.count})`;
}

function counts(m: Record<string, number>): string {
  const e = Object.entries(m).sort((a, b) => b[1] - a[1]);
  return e.length === 0 ? 'none' : e.map(([k, v]) => `${k}=${v}`).join(' ');
}

export function formatTextReport(r: RunReport): string {
  const out: string[] = [];
  out.push(`gyre-bench ${r.scenario}: ${r.stopReason}${r.error !== null ? ` (${r.error})` : ''} in ${r.durationSec}s`);
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  const c = r.clients;
  out.push(`  clients: ${c.subscribed}/${c.requested} subscribed, ${c.failed} failed (${counts(c.failures)}), ${c.connectedAtEnd} connected at end`);
  if (Object.keys(c.drops).length > 0) out.push(`  drops: ${counts(c.drops)}`);
  out.push(`  time-to-subscribed: ${formatLatency(r.timeToSubscribed)}`);
  if (r.deliveries.total > 0) out.push(`  deliveries: ${r.deliveries.total}, latency ${formatLatency(r.deliveries.latency)}`);
  const s = r.sequence;
  out.push(`  sequence: received ${s.received}, gaps ${s.gaps} (missing ${s.missing}), duplicates ${s.duplicates}`);
  for (const st of r.stages) {
    out.push(
      `  stage ${st.name}: published ok ${st.publish.ok} of ${st.publish.sent} scheduled (${st.publish.achievedRate}/s ok), ` +
        `delivered ${st.deliveries}/${st.expectedDeliveries} (${st.deliveriesPerSec}/s), gaps ${st.sequence.gaps}, dups ${st.sequence.duplicates}`,
    );
    out.push(`    latency ${formatLatency(st.latency)}`);
    if (Object.keys(st.publish.failed).length > 0) out.push(`    publish failures: ${counts(st.publish.failed)}`);
  }
  if (r.storm !== null) {
    const st = r.storm;
    out.push(`  storm (${st.trigger}${st.restartExitCode !== null ? `, exit ${st.restartExitCode}` : ''}): dropped ${st.dropped}, re-subscribed ${st.resubscribed} in ${st.recoverySec}s`);
    out.push(`    reconnect time ${formatLatency(st.reconnectTime)}`);
    out.push(`    peak ${st.peakConnectsPer100ms} connects/100ms; reconnect failures: ${counts(st.reconnectFailures)}`);
    const rc = st.recovery;
    if (rc !== undefined) {
      out.push(
        `    recovery: ${rc.recovered}/${rc.requested} resubscribes recovered (${rc.recoveredPublications} publications), ` +
          `${rc.notRecovered} not recovered (${rc.epochChanged} epoch changed), lost publications ${rc.lostPublications}`,
      );
    }
  }
  if (r.server !== null) {
    const sv = r.server;
    out.push(
      `  server pid ${sv.pid}: RSS ${sv.rssBeforeKb} → ${sv.rssAfterKb} kB (${sv.rssPerConnectionKb ?? 'n/a'} kB/conn), ` +
        `CPU ${sv.cpuPercent}% (${sv.cpuPerConnectionPerSec === null ? 'n/a' : (sv.cpuPerConnectionPerSec * 1e6).toFixed(2)} µs per conn-second)`,
    );
  }
  if (r.pingsReceived > 0) out.push(`  server pings received: ${r.pingsReceived}`);
  const g = r.generator;
  if (g !== null && g !== undefined) {
    const cp = g.connectPhase;
    out.push(
      `  generator: ${g.processes} process(es), ${g.pools} pool(s), ${g.mode}; prepared in ${g.prepareMs} ms; connect phase ` +
        `${cp.wallMs} ms wall, ${cp.cpuMs} ms CPU (${cp.cpuUsPerAttempt ?? 'n/a'} µs/connection), burst issued in ${cp.openSpanMs ?? 'n/a'} ms`,
    );
  }
  return out.join('\n');
}
