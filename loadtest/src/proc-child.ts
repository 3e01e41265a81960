// Generator child process entry (`--processes P`): hosts the pools it is given, as worker threads or in
// its own thread, and relays their messages to the parent over IPC, attaching its CPU time to each tick.
// Each process has its own file-descriptor table, which is what lets one run go past RLIMIT_NOFILE.
import { Worker } from 'node:worker_threads';
import { entryFor, workerThreadUrl } from './entry.js';
import type { FromWorker, ProcCpu, ToChild, ToWorker } from './messages.js';
import { PoolHost } from './pool-host.js';

interface Slot {
  post(m: ToWorker): void;
  kill(): Promise<unknown>;
}

const send = process.send?.bind(process);
if (send === undefined) throw new Error('proc-child must be started with an IPC channel (child_process.fork)');

const slots: Slot[] = [];
let live = 0;

function cpu(): ProcCpu {
  const u = process.cpuUsage();
  return { pid: process.pid, cpuUs: u.user + u.system };
}

function relay(m: FromWorker): void {
  if (m.type === 'tick' || m.type === 'stopped') send?.({ ...m, proc: cpu() });
  else send?.(m);
}

function slotDone(): void {
  live--;
  if (live <= 0) {
    // Every pool stopped and posted its final tick: leave once the IPC queue has flushed.
    setTimeout(() => process.disconnect(), 50).unref();
  }
}

process.on('message', (raw: ToChild) => {
  if (raw.type === 'spawn') {
    const entry = entryFor('worker');
    for (const s of raw.slots) {
      live++;
      const init: ToWorker = { type: 'init', workerId: s.workerId, config: s.config };
      if (!raw.threads) {
        const host = new PoolHost(relay, slotDone);
        slots.push({ post: (m) => host.handle(m), kill: () => Promise.resolve() });
        host.handle(init);
        continue;
      }
      const w = new Worker(workerThreadUrl(entry));
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        slotDone();
      };
      w.on('message', (m: FromWorker) => {
        relay(m);
        if (m.type === 'stopped') end();
      });
      w.on('error', (err) => {
        send?.({ type: 'fatal', workerId: s.workerId, message: err.message } satisfies FromWorker);
        end();
      });
      w.on('exit', end);
      slots.push({ post: (m) => w.postMessage(m), kill: () => w.terminate() });
      w.postMessage(init);
    }
    return;
  }
  for (const s of slots) s.post(raw.msg);
});

// The parent went away (finished, crashed or killed): never outlive it.
process.on('disconnect', () => {
  void Promise.all(slots.map((s) => s.kill())).finally(() => process.exit(0));
});
