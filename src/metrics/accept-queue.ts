// Length of the kernel accept queue of a listening TCP port, from Linux's /proc/net/tcp and /proc/net/tcp6: for a
// socket in LISTEN state (st 0A), rx_queue is the number of connections that finished the TCP handshake and wait
// to be accepted. Node accepts about one connection per event-loop turn, so during a connect burst clients wait
// there, where neither the event-loop lag nor the handshakes in flight show them (docs/storm.md §1).
// The kernel lists listening sockets first, so only the head of each file is read.
import { closeSync, openSync, readSync } from 'node:fs';

const FILES = { IPv4: ['/proc/net/tcp'], IPv6: ['/proc/net/tcp6'], any: ['/proc/net/tcp', '/proc/net/tcp6'] } as const;
const CHUNK = 64 * 1024;
/** Stop reading a file after this much even if it still lists listeners (a host with very many of them). */
const MAX_BYTES = 1024 * 1024;

export interface AcceptQueueScan {
  /** Connections queued on `port` in the lines seen. */
  queued: number;
  /** True once a line that is not a listener was seen (every listener has been read). */
  complete: boolean;
}

/** Scans complete lines of a /proc/net/tcp{,6} text for LISTEN sockets on `port`. */
export function parseAcceptQueue(text: string, port: number): AcceptQueueScan {
  let queued = 0;
  const lines = text.split('\n');
  // The last element may be a partial line (the text was cut at a chunk boundary).
  for (let i = 1; i < lines.length - 1; i++) {
    const f = (lines[i] as string).trim().split(/\s+/);
    if (f.length < 5) continue;
    if (f[3] !== '0A') return { queued, complete: true };
    const local = f[1] as string;
    if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue;
    const rx = (f[4] as string).split(':')[1];
    if (rx !== undefined) queued += parseInt(rx, 16) || 0;
  }
  return { queued, complete: false };
}

/**
 * Connections waiting in the accept queue of `port`; undefined where /proc/net is not readable. `family`: the
 * listening socket's (an IPv6 socket also queues the IPv4 clients of a dual-stack listener), so only its file is
 * read: each read costs the kernel a walk of its TCP tables, milliseconds of system CPU on a host with tens of
 * thousands of sockets.
 */
export function readAcceptQueue(port: number, family: 'IPv4' | 'IPv6' | 'any' = 'any'): number | undefined {
  let total = 0;
  let readable = false;
  const buf = Buffer.allocUnsafe(CHUNK);
  for (const file of FILES[family]) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      continue;
    }
    readable = true;
    try {
      let text = '';
      let scan: AcceptQueueScan = { queued: 0, complete: false };
      for (let read = 0; read < MAX_BYTES; ) {
        const n = readSync(fd, buf, 0, CHUNK, null);
        if (n <= 0) {
          scan = parseAcceptQueue(`${text}\n`, port);
          break;
        }
        read += n;
        text += buf.toString('latin1', 0, n);
        scan = parseAcceptQueue(text, port);
        if (scan.complete) break;
      }
      total += scan.queued;
    } catch {
      /* a read error counts as an empty queue */
    } finally {
      closeSync(fd);
    }
  }
  return readable ? total : undefined;
}
