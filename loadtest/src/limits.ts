// Generator-side limits: open files per process and ephemeral ports per (source IP, target) pair.
// Pure computation over numbers read from /proc, so that it can be tested with made-up machines.
import { readFileSync } from 'node:fs';

/** Sockets a single worker thread may hold (keeps each event loop responsive and under the fd cap). */
export const MAX_SOCKETS_PER_WORKER = 18_000;
/** File descriptors a process needs besides client sockets (stdio, epoll, worker pipes, HTTP publisher…). */
export const FD_MARGIN_BASE = 64;
/** Extra fds per worker thread (its MessagePort pipes, timers, etc.). */
export const FD_MARGIN_PER_WORKER = 8;
/** Ports kept free per source address for everything else on the machine. */
export const PORT_MARGIN = 500;

export interface MachineLimits {
  /** Soft limit on open files (RLIMIT_NOFILE) of this process. */
  fdSoft: number;
  fdHard: number;
  /** Inclusive ephemeral port range. */
  portLow: number;
  portHigh: number;
}

export interface RunShape {
  clients: number;
  /** Worker threads per process (0 = clients in the main thread, counted as one pool). */
  workers: number;
  /** Generator processes (default 1); each has its own RLIMIT_NOFILE and a slice of the clients. */
  processes?: number;
  sourceAddresses: number;
  /** Extra connections opened by the generator outside the pool (publisher, HTTP keep-alive). */
  extraSockets: number;
}

export interface LimitCheck {
  ok: boolean;
  /** File descriptors the busiest generator process needs (the parent: its clients plus extra sockets). */
  fdsNeeded: number;
  /** Generator processes the check assumed. */
  processes?: number;
  socketsPerWorker: number;
  portsPerAddress: number;
  portsAvailable: number;
  problems: string[];
}

/** Parses the "Max open files" line of /proc/<pid>/limits. */
export function parseFdLimits(text: string): { soft: number; hard: number } | null {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (m === null) return null;
  const toNum = (s: string | undefined): number => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
  const soft = toNum(m[1]);
  const hard = toNum(m[2]);
  if (!Number.isFinite(soft) || !Number.isFinite(hard)) return null;
  return { soft, hard };
}

/** Parses /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999"). */
export function parsePortRange(text: string): { low: number; high: number } | null {
  const m = /^\s*(\d+)\s+(\d+)/.exec(text);
  if (m === null) return null;
  return { low: Number(m[1]), high: Number(m[2]) };
}

export function readMachineLimits(): MachineLimits {
  let fd = { soft: 1024, hard: 1024 };
  let ports = { low: 32768, high: 60999 };
  try {
    fd = parseFdLimits(readFileSync('/proc/self/limits', 'utf8')) ?? fd;
  } catch {
    /* not Linux: keep conservative defaults */
  }
  try {
    ports = parsePortRange(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')) ?? ports;
  } catch {
    /* keep defaults */
  }
  return { fdSoft: fd.soft, fdHard: fd.hard, portLow: ports.low, portHigh: ports.high };
}

/**
 * Checks a run against the machine. Worker threads share their process's descriptor table, so the fd
 * budget is per process: every client socket of every worker of one process counts against one
 * RLIMIT_NOFILE. With `--processes P` each process holds about clients / P sockets (the parent also holds
 * the extra sockets); ephemeral ports are machine-wide, so they are counted per source address over all
 * processes.
 */
export function checkLimits(shape: RunShape, m: MachineLimits): LimitCheck {
  const problems: string[] = [];
  const procs = Math.max(1, Math.min(shape.processes ?? 1, Math.max(1, shape.clients)));
  const workers = Math.max(1, shape.workers);
  const addrs = Math.max(1, shape.sourceAddresses);
  const perProcess = Math.ceil(shape.clients / procs);
  const socketsPerWorker = Math.ceil(perProcess / workers);
  const fdsNeeded = perProcess + shape.extraSockets + FD_MARGIN_BASE + FD_MARGIN_PER_WORKER * workers;
  const portsAvailable = Math.max(0, m.portHigh - m.portLow + 1 - PORT_MARGIN);
  const portsPerAddress = Math.ceil((shape.clients + shape.extraSockets) / addrs);

  if (socketsPerWorker > MAX_SOCKETS_PER_WORKER) {
    const minWorkers = Math.ceil(perProcess / MAX_SOCKETS_PER_WORKER);
    problems.push(
      `${socketsPerWorker} sockets per worker exceeds ${MAX_SOCKETS_PER_WORKER}: use --workers ${minWorkers} or more`,
    );
  }
  if (fdsNeeded > m.fdSoft) {
    const fit = Math.max(1, m.fdSoft - shape.extraSockets - FD_MARGIN_BASE - FD_MARGIN_PER_WORKER * workers);
    const minProcs = Math.ceil(shape.clients / fit);
    const canRaise = m.fdHard > m.fdSoft ? ` or raise the soft limit (ulimit -n ${Math.min(m.fdHard, fdsNeeded)})` : '';
    problems.push(
      `needs ~${fdsNeeded} file descriptors per generator process but the limit is ${m.fdSoft} ` +
        `(worker threads share it): run at most ${fit} clients per process, e.g. --processes ${minProcs}${canRaise}`,
    );
  }
  if (portsPerAddress > portsAvailable) {
    const minAddrs = Math.ceil((shape.clients + shape.extraSockets) / Math.max(1, portsAvailable));
    problems.push(
      `${portsPerAddress} connections per source address to one server port exceeds the ${portsAvailable} usable ` +
        `ephemeral ports (${m.portLow}-${m.portHigh} minus ${PORT_MARGIN}): use --source-ips with at least ` +
        `${minAddrs} addresses, e.g. 127.0.0.1-127.0.0.${Math.min(254, minAddrs)}`,
    );
  }
  return { ok: problems.length === 0, fdsNeeded, processes: procs, socketsPerWorker, portsPerAddress, portsAvailable, problems };
}
