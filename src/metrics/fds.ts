// File descriptor and socket watch (docs/storm.md §3): open fds against the soft RLIMIT_NOFILE, sampled once a
// second from /proc/self/fd and /proc/self/limits (Linux; elsewhere the watch reports nothing and never
// refuses), and host socket counts from /proc/net/sockstat and the ephemeral port range, read at scrape time.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { Gauge } from 'prom-client';
import { registry } from './registry.js';

/** Soft and hard "Max open files" of this process, or null. "unlimited" is read as Infinity. */
export function readFdLimits(text?: string): { soft: number; hard: number } | null {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync('/proc/self/limits', 'latin1');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(t);
  if (m === null) return null;
  const num = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: num(m[1] as string), hard: num(m[2] as string) };
}

/**
 * Open fds of this process. Linux 6.2+ reports the count as the size of /proc/self/fd: one stat instead of
 * listing the directory, which with 2,000 sockets open held the event loop ~1 ms every second (the watch runs
 * on the main thread; measured on the fan-out node of bench/redis-fanout.sh). Older kernels report 0 there,
 * and then the directory is listed (its own fd, open while it is read, is not counted).
 */
export function countOpenFds(): number | null {
  const n = countOpenFdsCheaply();
  if (n !== null) return n;
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return null;
  }
}

/** Open fds from the size of /proc/self/fd (one stat, Linux 6.2+), or null where only a listing would tell. */
export function countOpenFdsCheaply(): number | null {
  try {
    const size = statSync('/proc/self/fd').size;
    return size > 0 ? size : null;
  } catch {
    return null;
  }
}

/**
 * From this many fds under the refusal threshold on, every check counts again instead of trusting the sample of
 * up to a second ago. Connections can arrive faster than that: a worker under `rr` took 1,000 a second and went
 * from under the threshold to its limit between two samples, and a worker at its limit loses the connections the
 * primary passes it (BENCHMARKS.md §14.18). Far from the limit a check stays free.
 */
export const RECOUNT_MARGIN = 2048;

/** `TCP: inuse 5 orphan 0 tw 2 alloc 9 mem 1` ⇒ { inuse: 5, orphan: 0, tw: 2, alloc: 9, mem: 1 }. */
export function parseSockstatTcp(text: string): Record<string, number> {
  const line = /^TCP:(.*)$/m.exec(text)?.[1] ?? '';
  const out: Record<string, number> = {};
  const parts = line.trim().split(/\s+/);
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i] as string] = Number(parts[i + 1]);
  return out;
}

export class FdWatch {
  open = 0;
  limit = Infinity;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    /** Refuse when fewer than this many fds are left. */
    private reserve: number,
    sampleMs = 1000,
    private readonly count: () => number | null = countOpenFds,
    private readonly limits: () => { soft: number; hard: number } | null = readFdLimits,
    /** The count near the threshold, per check: only where it is cheap (else the sample is used). */
    private readonly recount: () => number | null = count === countOpenFds ? countOpenFdsCheaply : count,
  ) {
    this.sample();
    if (sampleMs > 0) {
      this.timer = setInterval(() => this.sample(), sampleMs);
      this.timer.unref();
    }
  }

  setReserve(reserve: number): void {
    this.reserve = reserve;
  }

  sample(): void {
    const n = this.count();
    const l = this.limits();
    if (n !== null) this.open = n;
    if (l !== null) this.limit = l.soft;
  }

  /** True when open fds are within `reserve` of the soft limit (new connections would fail to get one). */
  nearLimit(): boolean {
    if (!Number.isFinite(this.limit)) return false;
    const threshold = this.limit - this.reserve;
    if (this.open >= threshold - RECOUNT_MARGIN) {
      const n = this.recount();
      if (n !== null) this.open = n;
    }
    return this.open >= threshold;
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}

let current: FdWatch | undefined;
/** The gauges below read the watch the server installed. */
export function installFdWatch(w: FdWatch | undefined): void {
  current = w;
}

new Gauge({
  name: 'gyre_fds_open',
  help: 'Open file descriptors of this process (counted at scrape time; admission refuses with reason "fds" within http_server.fd_reserve of gyre_fds_limit)',
  registers: [registry],
  collect() {
    const n = countOpenFds();
    if (n !== null) this.set(n);
  },
});
new Gauge({
  name: 'gyre_fds_limit',
  help: 'Soft RLIMIT_NOFILE of this process',
  registers: [registry],
  collect() {
    const l = current?.limit ?? readFdLimits()?.soft;
    if (l !== undefined && Number.isFinite(l)) this.set(l);
  },
});
new Gauge({
  name: 'gyre_host_tcp_sockets',
  help: 'Host TCP sockets by state from /proc/net/sockstat (inuse, orphan, tw, alloc)',
  labelNames: ['state'],
  registers: [registry],
  collect() {
    let text: string;
    try {
      text = readFileSync('/proc/net/sockstat', 'latin1');
    } catch {
      return;
    }
    const s = parseSockstatTcp(text);
    for (const k of ['inuse', 'orphan', 'tw', 'alloc']) if (s[k] !== undefined) this.labels(k).set(s[k]);
  },
});
new Gauge({
  name: 'gyre_host_ephemeral_ports',
  help: 'Size of the host ephemeral port range (net.ipv4.ip_local_port_range): the most outbound connections to one destination, e.g. from a proxy to this node',
  registers: [registry],
  collect() {
    try {
      const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/).map(Number);
      if (lo !== undefined && hi !== undefined && hi >= lo) this.set(hi - lo + 1);
    } catch {
      /* not Linux */
    }
  },
});
