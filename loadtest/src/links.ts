// How the runner reaches its pools: the slot plan (which global clients, addresses and rate each pool
// gets, over how many processes) and the links that carry ToWorker/FromWorker messages to a pool in this
// thread, in a worker thread, or in a generator child process (which relays to its own threads).
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { childExecArgv, entryFor, workerThreadUrl } from './entry.js';
import type { EntryMode } from './entry.js';
import type { FromWorker, PoolConfig, ToChild, ToWorker } from './messages.js';
import { PoolHost } from './pool-host.js';

export type LinkMode = 'inline' | EntryMode;

export interface Link {
  post(msg: ToWorker): void;
  /** Releases the thread or process (after the pools stopped); bounded in time. */
  close(): Promise<void>;
}

export interface Slot {
  workerId: number;
  config: PoolConfig;
}

export interface ProcPlan {
  slots: Slot[];
}

export interface PlanInput {
  clients: number;
  /** Threads per process; 0 = one in-thread pool per process. */
  workers: number;
  processes: number;
  /** Total connects per second; 0 = all at once. */
  rate: number;
  pool: Omit<PoolConfig, 'firstIndex' | 'count' | 'ratePerSec'>;
}

function split(total: number, parts: number, i: number): number {
  return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

/**
 * Splits clients over processes, then over each process's pools. Global client indexes stay contiguous per
 * pool, so user ids, channels and tokens do not depend on the split. With at least as many source
 * addresses as processes, each process gets a disjoint slice of them (address i → process i % P).
 */
export function planSlots(p: PlanInput): ProcPlan[] {
  const procs = Math.max(1, Math.min(p.processes, p.clients || 1));
  const addrs = p.pool.sourceAddresses;
  const out: ProcPlan[] = [];
  let first = 0;
  let workerId = 0;
  for (let pi = 0; pi < procs; pi++) {
    const count = split(p.clients, procs, pi);
    const sourceAddresses = procs > 1 && addrs.length >= procs ? addrs.filter((_, i) => i % procs === pi) : addrs;
    const pools = p.workers > 0 ? Math.max(1, Math.min(p.workers, count || 1)) : 1;
    const slots: Slot[] = [];
    for (let wi = 0; wi < pools; wi++) {
      const n = split(count, pools, wi);
      slots.push({
        workerId: workerId++,
        config: {
          ...p.pool,
          sourceAddresses,
          firstIndex: first,
          count: n,
          ratePerSec: p.rate > 0 ? (p.rate * n) / Math.max(1, p.clients) : 0,
        },
      });
      first += n;
    }
    out.push({ slots });
  }
  return out;
}

export interface LinkHandlers {
  onMessage(m: FromWorker): void;
  /** A thread or process failed; `workerIds` are the pools it hosted. */
  onError(workerIds: number[], message: string): void;
}

function inlineLink(slot: Slot, h: LinkHandlers): Link {
  // Messages cross asynchronously, as they would between threads.
  const host = new PoolHost((m) => setImmediate(() => h.onMessage(m)));
  const init: ToWorker = { type: 'init', workerId: slot.workerId, config: slot.config };
  host.handle(init);
  return { post: (m) => host.handle(m), close: () => Promise.resolve() };
}

function threadLink(url: URL, slot: Slot, h: LinkHandlers): Link {
  const w = new Worker(url);
  w.on('message', (m: FromWorker) => h.onMessage(m));
  w.on('error', (err) => h.onError([slot.workerId], `worker ${slot.workerId}: ${err.message}`));
  w.postMessage({ type: 'init', workerId: slot.workerId, config: slot.config } satisfies ToWorker);
  return {
    post: (m) => w.postMessage(m),
    close: () => w.terminate().then(() => undefined),
  };
}

function childLink(modulePath: string, execArgv: string[], plan: ProcPlan, threads: boolean, h: LinkHandlers): Link {
  const ids = plan.slots.map((s) => s.workerId);
  const child: ChildProcess = fork(modulePath, [], {
    execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  let stopping = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      if (!stopping) h.onError(ids, `generator process ${child.pid ?? '?'} exited early (${signal ?? `code ${code ?? '?'}`})`);
      resolve();
    });
  });
  child.on('error', (err) => h.onError(ids, `generator process: ${err.message}`));
  child.on('message', (m: FromWorker) => h.onMessage(m));
  const send = (m: ToChild): void => {
    if (!exited && child.connected) child.send(m);
  };
  send({ type: 'spawn', threads, slots: plan.slots });
  return {
    post: (m) => {
      if (m.type === 'stop') stopping = true;
      send({ type: 'relay', msg: m });
    },
    close: async () => {
      stopping = true;
      // The child leaves by itself after its pools stopped; give it a moment, then make sure.
      let timer: NodeJS.Timeout | null = null;
      await Promise.race([exit, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
      if (timer !== null) clearTimeout(timer);
      if (!exited) {
        if (child.connected) child.disconnect();
        child.kill('SIGKILL');
        await exit;
      }
    },
  };
}

/** Opens one link per pool (single process) or per child process. */
export function openLinks(plan: readonly ProcPlan[], threads: boolean, h: LinkHandlers): { links: Link[]; mode: LinkMode } {
  if (plan.length === 1) {
    const slots = plan[0]?.slots ?? [];
    if (!threads) return { links: slots.map((s) => inlineLink(s, h)), mode: 'inline' };
    const entry = entryFor('worker');
    const url = workerThreadUrl(entry);
    return { links: slots.map((s) => threadLink(url, s, h)), mode: entry.mode };
  }
  const entry = entryFor('proc-child');
  const path = fileURLToPath(entry.url);
  const argv = childExecArgv(entry);
  return { links: plan.map((p) => childLink(path, argv, p, threads, h)), mode: threads ? entry.mode : 'inline' };
}
