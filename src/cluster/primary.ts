// The cluster primary (`node.workers` > 1, docs/workers.md): forks the worker processes that serve the port (each
// a full node), hosts the memory engine they share (src/engines/primary/host.ts), restarts a worker that exits
// unexpectedly with backoff, merges /metrics, and passes signals on: SIGTERM/SIGINT make every worker run its
// own paced drain (then the primary exits), SIGHUP makes every worker reload its configuration.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { GyreConfig } from '../config/types.js';
import { encodeControl } from '../core/control/codec.js';
import { PrimaryEngineHost, type IpcPort } from '../engines/primary/index.js';
import { workerMetrics } from '../metrics/registry.js';
import { opsOf } from '../util/ipc-batch.js';
import { MainSocket, primaryOwnsMainSocket, type ServerHandle } from './main-socket.js';
import { CLUSTER_TAG, NO_SOCKET_ERRNO, WORKER_SLOT_ENV, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { MetricsAggregator } from './metrics.js';
import { RestartPolicy } from './restart.js';
import { StartGate } from './start-gate.js';
import { workerExecArgv } from './worker-args.js';

/** How long the first worker ready to listen waits for the others at start-up (./start-gate.ts). */
const START_GATE_MAX_WAIT_MS = 15_000;

export interface PrimaryOptions {
  config: Readonly<GyreConfig>;
  logger: Logger;
  workers: number;
  signals: Pick<NodeJS.EventEmitter, 'on' | 'removeListener'>;
  /** Called once with the exit code when the primary is done. */
  exit: (code: number) => void;
}

interface Slot {
  readonly slot: number;
  worker: Worker | undefined;
  startedAt: number;
  ready: boolean;
  /** Open connections on the shared port, as the worker last reported (share cap, `none` scheduling). */
  open: number;
  /** Not accepting on the shared port (share cap): the primary granted its pause. */
  paused: boolean;
  restartTimer: NodeJS.Timeout | undefined;
}

function portOf(w: Worker): IpcPort {
  return {
    send: (m) => {
      w.send(m as never);
    },
    onMessage: (fn) => {
      w.on('message', fn);
      return () => w.off('message', fn);
    },
    onDisconnect: (fn) => {
      w.on('disconnect', fn);
      return () => w.off('disconnect', fn);
    },
    get connected() {
      return w.isConnected();
    },
  };
}

function sendTo(w: Worker, m: PrimaryMessage): void {
  if (w.isConnected()) w.send({ gyre: CLUSTER_TAG, ops: [m] });
}

/** Answers a worker's k 6: `copies` messages, each carrying the main socket (a new descriptor in the worker). */
function sendCopies(w: Worker, id: number, copies: number, handle: ServerHandle | number): void {
  if (typeof handle === 'number') return sendTo(w, { k: 15, id, copies, errno: handle });
  for (let i = 0; i < copies && w.isConnected(); i++) {
    w.send({ gyre: CLUSTER_TAG, ops: [{ k: 15, id, copies, errno: 0 } satisfies PrimaryMessage] }, handle as never);
  }
}

/** Runs the primary until every worker has exited after a signal (or start-up failed); then calls opts.exit. */
export function runPrimary(opts: PrimaryOptions): Promise<void> {
  const { config, logger, workers: count } = opts;
  // Payload bytes cross IPC as Uint8Array (v8 serialisation), not as JSON arrays of numbers.
  // Frozen by setupPrimary or the first fork, whichever comes first: set it before both (docs/workers.md: both
  // were measured on a connect burst).
  cluster.schedulingPolicy = config.node.workers_scheduling === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  // The workers' node/V8 flags: the primary's own, then node.worker_node_args (./worker-args.ts).
  const execArgv = workerExecArgv(config.node.worker_node_args, process.execArgv, process.env['NODE_OPTIONS']);
  cluster.setupPrimary({ serialization: 'advanced', execArgv });
  const host = new PrimaryEngineHost();
  // `none` on a fixed port: the main socket is the primary's, and each worker gets node.listen_copies copies.
  const mainSocket = primaryOwnsMainSocket(config) ? new MainSocket(config.http_server.address, config.http_server.port) : undefined;
  // The workers open the main port together at start-up (./start-gate.ts).
  const startGate = new StartGate(count, START_GATE_MAX_WAIT_MS);
  const aggregator = new MetricsAggregator();
  const policy = new RestartPolicy();
  const slots: Slot[] = [];
  const bySlotWorker = new Map<number, Slot>();
  let stopping = false;
  let started = false;
  let failedCode = 0;

  return new Promise<void>((resolveDone) => {
    let watchdog: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      for (const s of slots) clearTimeout(s.restartTimer);
      opts.signals.removeListener('SIGTERM', onStop);
      opts.signals.removeListener('SIGINT', onStop);
      opts.signals.removeListener('SIGHUP', onHup);
      mainSocket?.close();
      void host.close().finally(() => {
        opts.exit(code);
        resolveDone();
      });
    };
    const live = (): Worker[] => slots.flatMap((s) => (s.worker !== undefined && s.ready ? [s.worker] : []));
    const updateGauge = (): void => workerMetrics.workers.set(slots.filter((s) => s.worker !== undefined).length);

    // Share cap (src/cluster/share-cap.ts): each worker learns the others' open connections together.
    const shareOthers = (): void => {
      const total = slots.reduce((a, x) => a + (x.worker !== undefined ? x.open : 0), 0);
      for (const x of slots) if (x.worker !== undefined) sendTo(x.worker, { k: 12, others: total - x.open });
    };
    const onWorkerMessage = (s: Slot, w: Worker, message: unknown): void => {
      const ops = opsOf<WorkerMessage>(message, CLUSTER_TAG);
      if (ops === undefined) return;
      for (const op of ops) {
        switch (op.k) {
          case 1:
            s.ready = true;
            logger.info({ worker: s.slot, workerPid: w.process.pid, nodeId: op.nodeId }, 'worker serving');
            if (!started && slots.every((x) => x.ready)) {
              started = true;
              logger.info({ workers: count, port: op.port }, `gyre primary: ${count} workers serving port ${op.port}`);
            }
            break;
          case 2:
            aggregator
              .aggregate(live().map((x) => ({ id: x.id, collect: (id: number) => sendTo(x, { k: 11, id }) })))
              .then(
                (r) => sendTo(w, { k: 10, id: op.id, text: r.text, contentType: r.contentType }),
                (err: unknown) => {
                  logger.warn({ err }, 'metrics aggregation failed');
                  sendTo(w, { k: 10, id: op.id, text: '', contentType: 'text/plain' });
                },
              );
            break;
          case 3:
            aggregator.answer(w.id, op.id, op.metrics);
            break;
          case 4:
            s.open = op.open;
            shareOthers();
            break;
          case 5:
            // Were every worker's copy of the shared handle closed, Node's primary would close the socket.
            if (op.listening) s.paused = false;
            else {
              const granted = slots.some((x) => x !== s && x.worker !== undefined && x.ready && !x.paused);
              if (granted) s.paused = true;
              sendTo(w, { k: 13, granted });
            }
            break;
          case 6:
            if (mainSocket === undefined) sendTo(w, { k: 15, id: op.id, copies: 0, errno: NO_SOCKET_ERRNO });
            else {
              const copies = config.node.listen_copies;
              const socket = mainSocket;
              if (!startGate.isOpen) logger.info({ worker: s.slot }, 'worker ready to listen; its copies wait until every worker is');
              startGate.request(s.slot, () => {
                socket.get().then(
                  (h) => sendCopies(w, op.id, copies, h),
                  (err: unknown) => {
                    logger.error({ err }, 'cannot bind the main port for the workers');
                    sendTo(w, { k: 15, id: op.id, copies, errno: NO_SOCKET_ERRNO });
                  },
                );
              });
            }
            break;
        }
      }
    };

    const fork = (s: Slot): void => {
      s.restartTimer = undefined;
      if (stopping) return;
      const w = cluster.fork({ [WORKER_SLOT_ENV]: String(s.slot) });
      s.worker = w;
      s.ready = false;
      s.open = 0;
      s.paused = false;
      s.startedAt = Date.now();
      bySlotWorker.set(w.id, s);
      host.attach(w.id, portOf(w));
      w.on('message', (m: unknown) => onWorkerMessage(s, w, m));
      // A send to a worker that has just died (its exit not yet seen) fails asynchronously with EPIPE or
      // ERR_IPC_CHANNEL_CLOSED and is emitted here; without a listener it would crash the primary, e.g. at
      // shutdown, when one worker's exit makes the primary tell the others their share (k 12). The worker's
      // exit is handled by the 'exit' event, so the failed message is only logged.
      w.on('error', (err: unknown) => logger.debug({ worker: s.slot, err }, 'message to a worker not sent'));
      updateGauge();
    };

    cluster.on('exit', (w, code, signal) => {
      const s = bySlotWorker.get(w.id);
      bySlotWorker.delete(w.id);
      aggregator.forget(w.id);
      const nodeId = host.detach(w.id);
      // Tell the other workers' control planes at once (a graceful worker said so itself; a crashed one cannot).
      if (nodeId !== '') host.broadcastControl(encodeControl({ uid: nodeId, body: { kind: 'shutdown' } }));
      if (s === undefined) return;
      const wasReady = s.ready;
      // A worker gone during start-up will not ask for its copies: the others must not wait for it.
      startGate.release();
      s.worker = undefined;
      s.ready = false;
      s.open = 0;
      s.paused = false;
      updateGauge();
      shareOthers();
      // Share cap: with no worker accepting, the paused ones must listen again. When the main socket is the
      // primary's, the port stays open meanwhile and connections wait in its queue; otherwise Node's primary
      // closed the socket with the last worker's copy, and the port refuses connections until that listen.
      if (!slots.some((x) => x.worker !== undefined && x.ready && !x.paused)) {
        for (const x of slots) if (x.worker !== undefined && x.paused) sendTo(x.worker, { k: 14 });
      }
      if (stopping) {
        if (code !== 0) failedCode = 1;
        if (slots.every((x) => x.worker === undefined)) finish(failedCode);
        return;
      }
      if (!started && !wasReady) {
        // A worker that never came up on start-up (bad config, busy port): restarting would loop. Stop everything.
        logger.error({ worker: s.slot, code, signal }, 'worker failed to start; stopping');
        stopAll(1);
        return;
      }
      const delay = policy.nextDelay(s.slot, Date.now() - s.startedAt);
      workerMetrics.restarts.inc();
      logger.error({ worker: s.slot, workerPid: w.process.pid, code, signal, restartInMs: delay }, 'worker exited unexpectedly; restarting it');
      s.restartTimer = setTimeout(() => fork(s), delay);
    });

    const stopAll = (code: number): void => {
      if (stopping) return;
      stopping = true;
      startGate.release();
      failedCode = code;
      for (const s of slots) {
        clearTimeout(s.restartTimer);
        s.restartTimer = undefined;
      }
      // Each worker runs the paced drain of shutdown.* itself; past the timeout plus a margin, kill what is left.
      watchdog = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdown.timeout }, 'workers did not stop within shutdown.timeout; killing them');
        for (const s of slots) s.worker?.process.kill('SIGKILL');
        finish(1);
      }, config.shutdown.timeout + 2000);
      let any = false;
      for (const s of slots) {
        if (s.worker !== undefined) {
          any = true;
          s.worker.process.kill('SIGTERM');
        }
      }
      if (!any) finish(failedCode);
    };
    const onStop = (signal: string): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal during shutdown, killing the workers');
        for (const s of slots) s.worker?.process.kill('SIGKILL');
        finish(1);
        return;
      }
      logger.info({ signal, workers: count }, 'shutting down: draining every worker');
      stopAll(0);
    };
    const onHup = (): void => {
      logger.info('SIGHUP: every worker reloads its configuration');
      // A worker still starting reads the new file anyway (and before its handler is set, SIGHUP would kill it).
      for (const s of slots) if (s.ready) s.worker?.process.kill('SIGHUP');
    };
    opts.signals.on('SIGTERM', onStop);
    opts.signals.on('SIGINT', onStop);
    opts.signals.on('SIGHUP', onHup);

    logger.info({ workers: count, scheduling: cluster.schedulingPolicy === cluster.SCHED_RR ? 'rr' : 'none', execArgv }, 'starting worker processes');
    for (let i = 0; i < count; i++) {
      const s: Slot = { slot: i + 1, worker: undefined, startedAt: 0, ready: false, open: 0, paused: false, restartTimer: undefined };
      slots.push(s);
      fork(s);
    }
  });
}
