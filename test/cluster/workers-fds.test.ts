// Worker processes at their open-files limit (docs/workers.md, "Limits and notes"), on a real `--workers 2` node
// started under `prlimit`. Under `rr` the primary accepts and passes each connection to a worker over IPC; the
// descriptor is created in the worker when the message is read. A worker at its limit cannot take one: the
// kernel drops it, Node's cluster retries and gives up, and that worker never gets another connection. So a
// worker must refuse (503 `fds`) before it gets there, however fast connections arrive, and a node filled past
// its capacity must serve again once the clients left.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RawWebSocket, targetFor, type RawWsHandler } from '../../loadtest/src/raw-ws.js';
import { baseConfig } from '../compat/base-config.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { workerPids } from '../harness/listen-sockets.js';
import { sleep, waitFor } from '../harness/wait.js';

/** Open-files limit of the whole node (primary and workers): with the default fd_reserve 64, 236 each. */
const LIMIT = 300;

interface Ctx {
  open: boolean;
  error: string | null;
  closed: boolean;
}

const handler: RawWsHandler<Ctx> = {
  onOpen: (ws) => {
    ws.ctx.open = true;
  },
  onMessage: () => undefined,
  onError: (ws, code) => {
    ws.ctx.error = code;
  },
  onClose: (ws) => {
    ws.ctx.closed = true;
  },
};

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Opens `n` sockets, 50 every 50 ms (the primary, under the same limit, holds each connection until a worker took
 * it: at once, 700 would exhaust the primary's fds first), and waits until each is open or closed (a socket whose
 * connection was lost stays neither).
 */
async function burst(g: GyreProcess, n: number): Promise<RawWebSocket<Ctx>[]> {
  const target = targetFor(g.url);
  const sockets: RawWebSocket<Ctx>[] = [];
  while (sockets.length < n) {
    for (let i = 0; i < 50 && sockets.length < n; i++) sockets.push(new RawWebSocket<Ctx>(target, handler, { open: false, error: null, closed: false }));
    await sleep(50);
  }
  const waiting = (): number => sockets.filter((s) => !s.ctx.open && !s.ctx.closed).length;
  try {
    await waitFor(() => waiting() === 0, { what: 'every socket answered', timeoutMs: 30_000, intervalMs: 100 });
  } catch (err) {
    const left = waiting();
    for (const s of sockets) s.terminate();
    throw new Error(`${left} of ${n} sockets never answered: ${String(err)}`);
  }
  return sockets;
}

describe('worker processes at their open-files limit', { timeout: 180_000 }, () => {
  it('rr: a burst over capacity is answered (101 or 503), and after it every worker serves again', async () => {
    const g = await startGyre(mergeConfig(baseConfig(), { log: { level: 'info' }, http_server: { warmup_connections: 0 } }), {
      args: ['--workers', '2', '--node.workers_scheduling', 'rr'],
      wrap: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`],
    });
    const all: RawWebSocket<Ctx>[] = [];
    try {
      const pids = await waitFor(() => (workerPids(g).length === 2 ? workerPids(g) : false), { what: 'two workers serving' });
      const first = await burst(g, 700);
      all.push(...first);
      // Over both workers' capacity (2 × 236): the rest are refused, with 503 by a worker or reset by the primary
      // at its own limit (the same 300 here), but none is left hanging (burst() waits for every answer).
      const opened = first.filter((s) => s.ctx.open).length;
      assert.ok(opened > 100 && opened < 700, `opened ${opened} of 700`);
      for (const pid of pids) assert.ok(fds(pid) < LIMIT, `worker ${pid} at ${fds(pid)} fds`);
      for (const s of first) s.terminate();
      await waitFor(() => pids.every((p) => fds(p) < 40), { what: 'the workers closed the sockets', timeoutMs: 20_000 });
      // Well under both workers' capacity (rr is not exact): every client gets in, on both workers.
      const second = await burst(g, 160);
      all.push(...second);
      assert.equal(second.filter((s) => s.ctx.open).length, 160, JSON.stringify(second.filter((s) => !s.ctx.open).map((s) => s.ctx.error)));
      for (const pid of pids) assert.ok(fds(pid) > 40, `worker ${pid} holds ${fds(pid)} fds after the second burst`);
      assert.deepEqual(workerPids(g), pids, 'no worker was restarted');
    } finally {
      for (const s of all) s.terminate();
      await g.stop('SIGKILL');
    }
  });
});
