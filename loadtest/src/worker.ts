// Worker-thread entry: owns one ConnPool and reports to the runner every tick.
import { parentPort } from 'node:worker_threads';
import { ConnPool } from './conn-pool.js';
import type { FromWorker, ToWorker } from './messages.js';

const port = parentPort;
if (port === null) throw new Error('worker.ts must run in a worker thread');

let pool: ConnPool | null = null;
let ticker: NodeJS.Timeout | null = null;
let workerId = -1;

function post(msg: FromWorker): void {
  port?.postMessage(msg);
}

function fatal(err: unknown): void {
  post({ type: 'fatal', workerId, message: err instanceof Error ? err.message : String(err) });
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'init': {
      workerId = msg.workerId;
      const p = new ConnPool(msg.config, msg.workerId);
      pool = p;
      p.prepare().then(
        () => post({ type: 'prepared', workerId }),
        (err: unknown) => fatal(err),
      );
      ticker = setInterval(() => post({ type: 'tick', tick: p.snapshot() }), msg.config.tickMs);
      return;
    }
    case 'start':
      pool?.start();
      return;
    case 'flush':
      if (pool !== null) post({ type: 'tick', tick: pool.snapshot() });
      return;
    case 'stop': {
      const p = pool;
      if (ticker !== null) clearInterval(ticker);
      ticker = null;
      if (p === null) return;
      p.stop().then(
        () => {
          post({ type: 'stopped', tick: p.snapshot() });
          port.close();
        },
        (err: unknown) => fatal(err),
      );
      return;
    }
  }
});
