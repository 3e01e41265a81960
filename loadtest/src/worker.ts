// Worker-thread entry: one PoolHost fed by the runner's messages.
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './messages.js';
import { PoolHost } from './pool-host.js';

const port = parentPort;
if (port === null) throw new Error('worker.ts must run in a worker thread');

const host = new PoolHost(
  (m: FromWorker) => port.postMessage(m),
  () => port.close(),
);
port.on('message', (msg: ToWorker) => host.handle(msg));
