// Who holds the listening socket of a port, read from /proc (Linux): the socket's inode, how many descriptors of
// it a process holds (a worker paused by the share cap holds none), and the worker pids the primary logged.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { GyreProcess } from './gyre.js';

/** The inode of the socket listening on 127.0.0.1:port (/proc/net/tcp). */
export function listenInode(port: number): string | undefined {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(hex) === true && f[3] === '0A') return f[9];
  }
  return undefined;
}

/** How many descriptors of socket `inode` process `pid` holds. */
export function descriptors(pid: number, inode: string): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

/** Worker pids from the primary's "worker serving" lines, in slot order (the latest worker of each slot). */
export function workerPids(g: GyreProcess): number[] {
  const bySlot = new Map<number, number>();
  for (const line of g.stdout().split('\n')) {
    if (!line.includes('"worker serving"')) continue;
    const o = JSON.parse(line) as { worker: number; workerPid: number };
    bySlot.set(o.worker, o.workerPid);
  }
  return [...bySlot.entries()].sort((a, b) => a[0] - b[0]).map(([, pid]) => pid);
}
