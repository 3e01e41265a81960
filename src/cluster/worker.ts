// A worker process's end of the cluster channel (non-engine part): says when it serves, asks the primary for the
// aggregated /metrics, answers the primary's collect requests with its own metrics, carries the share cap's
// counts, and receives the copies of the main port's listening socket.
import cluster from 'node:cluster';
import { getSystemErrorName } from 'node:util';
import { flushMetrics, registry } from '../metrics/registry.js';
import { opsOf } from '../util/ipc-batch.js';
import { CLUSTER_TAG, NO_SOCKET_ERRNO, WORKER_SLOT_ENV, type PrimaryMessage, type WorkerMessage } from './messages.js';

export interface WorkerLink {
  /** Worker number (1…, as the primary counts forks). */
  readonly id: number;
  /** The worker's slot (1..node.workers), the same for the worker a restart puts in its place. */
  readonly slot: number;
  /** The server listens: the primary counts this worker as up. */
  announceReady(port: number, nodeId: string): void;
  /** Runs before this worker's metrics are collected (gauges that are sampled, not pushed). */
  setBeforeCollect(fn: () => void): void;
  /** Every worker's metrics, merged by the primary. */
  clusterMetrics(): Promise<{ text: string; contentType: string }>;
  /** Share cap: tells the primary this worker's open connections on the shared port. */
  reportOpen(open: number): void;
  /** Share cap: called with the other workers' open connections together, whenever the primary sends them. */
  onOthers(fn: (others: number) => void): void;
  /** Share cap: false asks the primary whether this worker may stop accepting; true says it listens again. */
  setListening(listening: boolean): void;
  /** Share cap: the primary's answer to setListening(false). */
  onPauseAnswer(fn: (granted: boolean) => void): void;
  /** Share cap: the primary says no other worker accepts any more (one exited): listen again now. */
  onMustListen(fn: () => void): void;
  /**
   * The main port's listening socket, node.listen_copies descriptors of it (./main-socket.ts), each an opaque
   * handle for net.Server.listen(). Rejects with the bind error (code EADDRINUSE…) when the primary cannot bind.
   */
  mainSocketCopies(): Promise<object[]>;
}

interface CopiesWanted {
  handles: object[];
  resolve: (handles: object[]) => void;
  reject: (err: Error) => void;
}

/** The error a listen in this process would have given (net's message form, `code` set). */
function bindError(errno: number): Error {
  let code = 'EINVAL';
  try {
    code = getSystemErrorName(errno);
  } catch {
    /* not a system errno */
  }
  return Object.assign(new Error(`listen ${code}: the primary cannot bind the main port`), { code, errno });
}

function send(m: WorkerMessage): void {
  if (process.connected) process.send?.({ gyre: CLUSTER_TAG, ops: [m] });
}

/** The slot the primary gave this worker in its environment; the fork number if it gave none. */
export function slotOf(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 ? n : fallback;
}

/** The link of this process when it is a cluster worker, else undefined. */
export function workerLink(): WorkerLink | undefined {
  const worker = cluster.worker;
  if (!cluster.isWorker || worker === undefined) return undefined;
  let beforeCollect: () => void = () => undefined;
  let others: (n: number) => void = () => undefined;
  let pauseAnswer: (granted: boolean) => void = () => undefined;
  let mustListen: () => void = () => undefined;
  let nextId = 1;
  const waiting = new Map<number, (v: { text: string; contentType: string }) => void>();
  const copies = new Map<number, CopiesWanted>();
  process.on('message', (message: unknown, handle: unknown) => {
    const ops = opsOf<PrimaryMessage>(message, CLUSTER_TAG);
    if (ops === undefined) return;
    for (const op of ops) {
      if (op.k === 10) {
        waiting.get(op.id)?.({ text: op.text, contentType: op.contentType });
        waiting.delete(op.id);
      } else if (op.k === 12) {
        others(op.others);
      } else if (op.k === 13) {
        pauseAnswer(op.granted);
      } else if (op.k === 14) {
        mustListen();
      } else if (op.k === 15) {
        const c = copies.get(op.id);
        if (c === undefined) {
          if (typeof handle === 'object' && handle !== null) (handle as { close(): void }).close();
        } else if (op.errno !== 0 || typeof handle !== 'object' || handle === null) {
          copies.delete(op.id);
          for (const h of c.handles) (h as { close(): void }).close();
          c.reject(bindError(op.errno !== 0 ? op.errno : NO_SOCKET_ERRNO));
        } else {
          c.handles.push(handle);
          if (c.handles.length >= op.copies) {
            copies.delete(op.id);
            c.resolve(c.handles);
          }
        }
      } else {
        try {
          flushMetrics();
          beforeCollect();
        } catch {
          /* sampled gauges stay as they were */
        }
        registry.getMetricsAsJSON().then(
          (metrics) => send({ k: 3, id: op.id, metrics }),
          () => send({ k: 3, id: op.id, metrics: [] }),
        );
      }
    }
  });
  // The primary is gone (killed): nothing can serve this worker's engine any more.
  process.on('disconnect', () => process.exit(1));
  return {
    id: worker.id,
    slot: slotOf(process.env[WORKER_SLOT_ENV], worker.id),
    announceReady: (port, nodeId) => send({ k: 1, port, nodeId }),
    setBeforeCollect: (fn) => {
      beforeCollect = fn;
    },
    reportOpen: (open) => send({ k: 4, open }),
    onOthers: (fn) => {
      others = fn;
    },
    setListening: (listening) => send({ k: 5, listening }),
    onPauseAnswer: (fn) => {
      pauseAnswer = fn;
    },
    onMustListen: (fn) => {
      mustListen = fn;
    },
    mainSocketCopies: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        copies.set(id, { handles: [], resolve, reject });
        send({ k: 6, id });
      }),
    clusterMetrics: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error('metrics: no answer from the primary process'));
        }, 10_000);
        waiting.set(id, (v) => {
          clearTimeout(timer);
          resolve(v);
        });
        send({ k: 2, id });
      }),
  };
}
