// One generator process of bench/admission-rate.bench.ts: opens raw WebSocket upgrades at a steady rate (or all
// at once) from its own source addresses, and prints what each got back as one JSON line on stdout. An admitted
// client (101) sends a connect command with a token and waits for the reply, as a real client does.
// Run as: node --import tsx bench/lib/arrivals.ts '<ArrivalsJob as JSON>'
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildFrame } from '../../loadtest/src/raw-ws.js';
import { firstFrame } from '../../loadtest/src/lean-client.js';
import { probeUpgrade, type ProbeResult } from '../../test/storm/probe.js';

export interface ArrivalsJob {
  port: number;
  /** Connections this process opens. */
  count: number;
  /** Per second; 0 = all at once. */
  rate: number;
  /** Source addresses, used in turn. */
  addresses: string[];
  /** Connection token for the connect command after a 101. */
  token: string;
}

/** Outcome code: the HTTP status, -1 reset, -2 hang. */
export type Sample = [outcome: number, connectToAnswerMs: number, connectToEstablishedMs: number];

export interface ArrivalsReport {
  samples: Sample[];
  /** Largest event-loop delay of this generator during the run (ms): how late it may have noted answers. */
  lagMaxMs: number;
  /** From the first connect() to the last one (ms): how close the generator came to the asked rate. */
  spreadMs: number;
}

const TICK_MS = 2;

async function main(job: ArrivalsJob): Promise<ArrivalsReport> {
  const connect = buildFrame(1, firstFrame(job.token, null));
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const pending: Promise<ProbeResult>[] = [];
  const open = (): void => {
    const localAddress = job.addresses[pending.length % job.addresses.length];
    pending.push(probeUpgrade(job.port, '/connection/websocket', 5000, { afterUpgrade: connect, ...(localAddress === undefined ? {} : { localAddress }) }));
  };
  const t0 = performance.now();
  let last = t0;
  if (job.rate <= 0) {
    while (pending.length < job.count) open();
  } else {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(job.count, Math.floor(((performance.now() - t0) * job.rate) / 1000) + 1);
        while (pending.length < due) open();
        last = performance.now();
        if (pending.length >= job.count) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(tick, TICK_MS);
      tick();
    });
  }
  const spreadMs = (job.rate <= 0 ? performance.now() : last) - t0;
  const results = await Promise.all(pending);
  lag.disable();
  const code = (o: ProbeResult['outcome']): number => (o === 'reset' ? -1 : o === 'hang' ? -2 : o);
  return {
    samples: results.map((r) => [code(r.outcome), Math.round(r.ms * 10) / 10, Math.round(r.connectedMs * 10) / 10]),
    lagMaxMs: Number.isFinite(lag.max) ? lag.max / 1e6 : 0,
    spreadMs,
  };
}

const raw = process.argv[2];
if (raw !== undefined) {
  const report = await main(JSON.parse(raw) as ArrivalsJob);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}
