// Live progress: a cli-progress bar on a TTY, plain periodic lines otherwise (or nothing with --quiet).
import cliProgress from 'cli-progress';
import type { SeriesPoint, Totals } from './aggregate.js';

export interface Progress {
  sample(p: SeriesPoint, t: Totals): void;
  log(line: string): void;
  stop(): void;
}

function line(p: SeriesPoint, t: Totals, clients: number): string {
  const failed = Object.values(t.failures).reduce((a, b) => a + b, 0);
  let s = `t=${p.t.toFixed(0)}s connected=${t.connected}/${clients} connecting=${t.connecting} failed=${failed}`;
  if (p.connectLatency.count > 0) s += ` sub.p99=${p.connectLatency.p99}ms`;
  if (p.deliveriesPerSec > 0 || t.deliveries > 0) s += ` deliveries/s=${p.deliveriesPerSec} lat.p99=${p.latency.p99}ms`;
  if (t.seq.gaps + t.seq.duplicates > 0) s += ` gaps=${t.seq.gaps} dups=${t.seq.duplicates}`;
  const drops = Object.values(t.drops).reduce((a, b) => a + b, 0);
  if (drops > 0) s += ` drops=${drops} reconnected=${t.reconnected}`;
  return s;
}

export function createProgress(opts: { quiet: boolean; clients: number; out?: NodeJS.WriteStream }): Progress {
  const out = opts.out ?? process.stderr;
  if (opts.quiet) return { sample: () => undefined, log: () => undefined, stop: () => undefined };
  if (out.isTTY !== true) {
    return {
      sample: (p, t) => out.write(line(p, t, opts.clients) + '\n'),
      log: (l) => out.write(l + '\n'),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'connected [{bar}] {value}/{total} | {status}', stream: out, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(1, opts.clients), 0, { status: 'starting' });
  return {
    sample: (p, t) => bar.update(t.connected, { status: line(p, t, opts.clients) }),
    log: (l) => {
      out.write('\r\x1b[2K' + l + '\n');
    },
    stop: () => bar.stop(),
  };
}
