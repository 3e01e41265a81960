// Host TCP counters that explain failed or slow handshakes in a connect storm, read from /proc (Linux only;
// elsewhere every reading is null). A Node process accepts about one connection per event-loop turn, so in a
// burst the kernel's accept queue fills; once it holds net.core.somaxconn connections the kernel drops SYNs
// and handshake ACKs (TcpExtListenOverflows / ListenDrops) and those clients come back only after a 1 s+
// retransmit. These counters are host-wide (every listener on the machine), cumulative since boot.
import { readFileSync } from 'node:fs';

export interface ListenCounters {
  overflows: number;
  drops: number;
}

/** Parses /proc/net/netstat text (pairs of header/value lines per group). */
export function parseListenCounters(netstat: string): ListenCounters | null {
  const lines = netstat.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const names = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/);
    if (names[0] !== 'TcpExt:' || values[0] !== 'TcpExt:') continue;
    const o = names.indexOf('ListenOverflows');
    const d = names.indexOf('ListenDrops');
    if (o === -1 || d === -1) return null;
    const overflows = Number(values[o]);
    const drops = Number(values[d]);
    return Number.isFinite(overflows) && Number.isFinite(drops) ? { overflows, drops } : null;
  }
  return null;
}

export function readListenCounters(path = '/proc/net/netstat'): ListenCounters | null {
  try {
    return parseListenCounters(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** net.core.somaxconn: the kernel's cap on any listen backlog; null when unknown. */
export function readSomaxconn(path = '/proc/sys/net/core/somaxconn'): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
