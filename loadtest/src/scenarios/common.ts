// The frame every scenario shares: start a worker group, connect every client (paced or all at once),
// run the scenario body, always stop the group, and classify how the run ended.
import type { SeriesPoint, Totals } from '../aggregate.js';
import { readMachineLimits } from '../limits.js';
import type { PoolConfig } from '../messages.js';
import type { CommonOptions } from '../options.js';
import type { GeneratorReport, ScenarioExtras, StopReason } from '../report/json.js';
import { WorkerGroup } from '../runner.js';
import type { Deadline } from '../runner.js';

export interface RunContext {
  deadline: Deadline;
  log: (line: string) => void;
  onSample?: (p: SeriesPoint, t: Totals) => void;
}

export interface ScenarioRun {
  group: WorkerGroup;
  extras: ScenarioExtras;
  stopReason: StopReason;
  error: string | null;
  warnings: string[];
}

export interface PoolShape {
  channels: number;
  reconnect: boolean;
  reconnectMaxDelayMs: number;
  /** Subscribe recoverable; resubscribe with recover + position. */
  recover?: boolean;
  /** How often pools report (default 1000 ms; storm uses less so its waits react quickly). */
  tickMs?: number;
  /** Per-delivery dump file prefix (fanout --latency-dump). */
  latencyDump?: string | null;
}

/** Explicit source ports for runs that bind to source addresses (see PoolConfig.bindPorts). */
function bindPorts(o: CommonOptions): { bindPorts: NonNullable<PoolConfig['bindPorts']> } | null {
  if (o.sourceIps.length === 1 && o.sourceIps[0] === '127.0.0.1') return null;
  const m = readMachineLimits();
  const range = m.portHigh - m.portLow + 1;
  if (range < 1) return null;
  return { bindPorts: { low: m.portLow, high: m.portHigh, offset: Math.floor(Math.random() * range), totalClients: o.clients } };
}

export function everyoneSettled(clients: number): (t: Totals) => boolean {
  return (t) => t.settled >= clients;
}

export async function runWithPool(
  o: CommonOptions,
  ctx: RunContext,
  shape: PoolShape,
  body: (g: WorkerGroup, warnings: string[]) => Promise<ScenarioExtras>,
): Promise<ScenarioRun> {
  const warnings: string[] = [];
  const group = new WorkerGroup({
    workers: o.workers,
    processes: o.processes,
    clients: o.clients,
    rate: o.rate,
    deadline: ctx.deadline,
    ...(ctx.onSample !== undefined ? { onSample: ctx.onSample } : {}),
    pool: {
      url: o.url,
      sourceAddresses: o.sourceIps,
      channelPrefix: o.channelPrefix,
      channels: shape.channels,
      userPrefix: o.userPrefix,
      hmacSecret: o.hmacSecret,
      tokenTtlSeconds: o.tokenTtlSeconds,
      connectTimeoutMs: o.connectTimeoutMs,
      reconnect: shape.reconnect,
      reconnectMaxDelayMs: shape.reconnectMaxDelayMs,
      recover: shape.recover === true,
      ...(bindPorts(o) ?? {}),
      tickMs: shape.tickMs ?? 1000,
      ...(shape.latencyDump !== undefined && shape.latencyDump !== null ? { latencyDump: shape.latencyDump } : {}),
    },
  });
  let extras: ScenarioExtras = {};
  let error: string | null = null;
  let overrun = false;
  let generator: GeneratorReport | null = null;
  try {
    const prepStart = performance.now();
    await group.prepare();
    const prepareMs = performance.now() - prepStart;
    ctx.log(
      `${group.poolCount} pool(s) ready in ${Math.round(prepareMs)} ms (${group.mode}, ${o.processes} process(es)); ` +
        `connecting ${o.clients} clients ${o.rate > 0 ? `at ${o.rate}/s` : 'all at once'}`,
    );
    await group.flush();
    const cpu0 = group.cpuUs();
    const t0 = performance.now();
    group.start();
    const settled = await group.waitFor(everyoneSettled(o.clients), Number.MAX_SAFE_INTEGER);
    await group.flush();
    const t = group.totals();
    const cpuMs = (group.cpuUs() - cpu0) / 1000;
    generator = {
      mode: group.mode,
      processes: o.processes,
      pools: group.poolCount,
      prepareMs: Math.round(prepareMs),
      connectPhase: {
        wallMs: Math.round(performance.now() - t0),
        cpuMs: Math.round(cpuMs),
        cpuUsPerAttempt: t.attempts > 0 ? Math.round((cpuMs * 1000) / t.attempts) : null,
        openSpanMs: t.openSpanMs === null ? null : Math.round(t.openSpanMs),
      },
    };
    const span = generator.connectPhase.openSpanMs;
    if (span !== null && o.clients >= 500) {
      const issueRate = Math.round((o.clients / Math.max(1, span)) * 1000);
      if (o.rate <= 0 && span > 500) {
        warnings.push(
          `the generator needed ${span} ms to issue the ${o.clients}-client burst (~${issueRate} opens/s at ` +
            `${generator.connectPhase.cpuUsPerAttempt ?? '?'} µs CPU each): the burst was limited by the generator; add cores, --workers or --processes`,
        );
      } else if (o.rate > 0 && span > (o.clients / o.rate) * 1000 * 1.1 + 250) {
        warnings.push(`the generator could not keep up with --rate ${o.rate}: opened ~${issueRate}/s`);
      }
    }
    ctx.log(
      `connect phase: ${t.subscribedOnce} subscribed, ${t.settled - t.subscribedOnce} failed; generator CPU ` +
        `${generator.connectPhase.cpuMs} ms (${generator.connectPhase.cpuUsPerAttempt ?? 'n/a'} µs/connection), ` +
        `burst issued in ${generator.connectPhase.openSpanMs ?? 'n/a'} ms`,
    );
    if (!settled) warnings.push(`only ${t.settled} of ${o.clients} clients finished connecting before the deadline`);
    if (!ctx.deadline.passed()) extras = await body(group, warnings);
    overrun = ctx.deadline.passed();
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    await group.stop();
  }
  if (group.fatalError !== null && error === null) error = group.fatalError;
  if (generator !== null) extras = { ...extras, generator };
  const stopReason: StopReason =
    error !== null ? 'error' : ctx.deadline.interrupted ? 'interrupted' : overrun ? 'timeout' : 'completed';
  return { group, extras, stopReason, error, warnings };
}
