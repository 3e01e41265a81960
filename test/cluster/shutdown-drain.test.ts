// SIGTERM to the primary drains every worker (docs/workers.md, "Signals"), also one the share cap has paused
// (`none` scheduling: it closed its copies of the listening socket but still holds its clients). Scenario: worker B
// is stopped (SIGSTOP) so that A takes the first clients until it is at client.connection_limit and pauses; B,
// resumed, takes the next ones. On SIGTERM every client of both workers must get the drain's 3001 (shutdown,
// reconnect), the primary must exit 0 only after both workers said "shutdown complete", and no worker may be left.
// Second scenario: a worker that dies during the drain is not restarted; the other one still drains its clients.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Centrifuge } from 'centrifuge';
import { baseConfig } from '../compat/base-config.js';
import { ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { descriptors, listenInode, workerPids } from '../harness/listen-sockets.js';
import { waitFor } from '../harness/wait.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function lines(g: GyreProcess, msg: string): number {
  return g.stdout().split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length;
}

interface Watched {
  client: Centrifuge;
  connected: boolean;
  /** Codes of the client's 'connecting' (reconnect) and 'disconnected' (terminal) events after it connected. */
  codes: number[];
}

/** A client that starts connecting now. */
async function startOne(pool: ClientPool, g: GyreProcess, user: string): Promise<Watched> {
  const { client } = pool.json(g.url, { token: await connToken({ sub: user, expIn: 3600 }), minReconnectDelay: 200, maxReconnectDelay: 500 });
  const w: Watched = { client, connected: false, codes: [] };
  client.on('connected', () => (w.connected = true));
  client.on('connecting', (ctx) => {
    if (w.connected) w.codes.push(ctx.code);
  });
  client.on('disconnected', (ctx) => w.codes.push(ctx.code));
  client.connect();
  return w;
}

async function connectOne(pool: ClientPool, g: GyreProcess, user: string): Promise<Watched> {
  const w = await startOne(pool, g, user);
  await waitFor(() => w.connected, { what: `${user} connected` });
  return w;
}

function config(drain: string, limit: number): Record<string, unknown> {
  return mergeConfig(baseConfig(), {
    log: { level: 'info' },
    node: { workers_scheduling: 'none', listen_copies: 2 },
    client: { connection_limit: limit },
    shutdown: { timeout: '10s', drain_duration: drain },
  });
}

describe('SIGTERM with worker processes', { timeout: 120_000 }, () => {
  let g: GyreProcess | undefined;
  let pool = new ClientPool();
  const stopped: number[] = [];

  afterEach(async () => {
    for (const pid of stopped.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    pool.closeAll();
    pool = new ClientPool();
    await g?.stop('SIGKILL');
    g = undefined;
  });

  it('drains the clients of a paused worker too, and exits once both workers finished', async () => {
    const limit = 4;
    const gyre = await startGyre(config('1s', limit), { args: ['--workers', '2'] });
    g = gyre;
    await waitFor(() => gyre.stdout().includes('2 workers serving'), { what: 'both workers serving', timeoutMs: 60_000 });
    const inode = listenInode(gyre.port);
    const [a, b] = workerPids(gyre);
    assert.ok(inode !== undefined && a !== undefined && b !== undefined);
    // B stopped: A accepts every connection, reaches its limit and pauses (the primary agrees: B counts as accepting).
    process.kill(b, 'SIGSTOP');
    stopped.push(b);
    // A's open connections may include one the harness's health probe keeps alive: it can pause before `limit`
    // clients. A client still connecting when it pauses waits in the queue and lands on B.
    const clients: Watched[] = [];
    let onA = 0;
    for (let i = 0; i < limit && descriptors(a, inode) > 0; i++) {
      const w = await startOne(pool, gyre, `first-${i}`);
      clients.push(w);
      await waitFor(() => w.connected || descriptors(a, inode) === 0, { what: `first-${i} connected or A paused` });
      if (w.connected) onA++;
    }
    await waitFor(() => descriptors(a, inode) === 0, { what: 'worker A paused (its copies closed)', timeoutMs: 20_000 });
    assert.ok(onA >= 2, `A holds ${onA} clients`);
    process.kill(b, 'SIGCONT');
    stopped.length = 0;
    await waitFor(() => clients.every((c) => c.connected), { what: 'queued clients served by B' });
    for (let i = 0; i < 2; i++) clients.push(await connectOne(pool, gyre, `on-b-${i}`));
    assert.equal(descriptors(a, inode), 0, 'A is still paused when the shutdown starts');
    assert.ok(descriptors(b, inode) > 0, 'B accepts');

    const exit = await gyre.stop('SIGTERM', 20_000);
    assert.deepEqual(exit, { code: 0, signal: null }, gyre.stdout().slice(-3000));
    assert.equal(lines(gyre, 'shutdown complete'), 2, 'both workers finished their shutdown');
    assert.equal(lines(gyre, 'worker exited unexpectedly; restarting it'), 0);
    await waitFor(() => !alive(a) && !alive(b), { what: 'no worker left behind' });
    await waitFor(() => clients.every((c) => c.codes.length > 0), { what: 'every client told' });
    assert.deepEqual(
      clients.map((c) => c.codes[0]),
      clients.map(() => 3001),
      'every client, on the paused worker too, got the drain\'s shutdown code (reconnect advice)',
    );
  });

  it('does not restart a worker that dies during the drain; the other still drains its clients', async () => {
    const gyre = await startGyre(config('4s', 0), { args: ['--workers', '2'] });
    g = gyre;
    await waitFor(() => gyre.stdout().includes('2 workers serving'), { what: 'both workers serving', timeoutMs: 60_000 });
    const [a, b] = workerPids(gyre);
    assert.ok(a !== undefined && b !== undefined);
    // B stopped while the clients connect: all of them land on A, so A is still draining (6 clients paced over
    // 4 s) when it is killed. Unsteered, A could hold none and be gone before the kill.
    process.kill(b, 'SIGSTOP');
    stopped.push(b);
    const clients: Watched[] = [];
    for (let i = 0; i < 6; i++) clients.push(await connectOne(pool, gyre, `drain-${i}`));
    process.kill(b, 'SIGCONT');
    stopped.length = 0;
    const exited = gyre.exited;
    process.kill(gyre.pid, 'SIGTERM');
    await waitFor(() => lines(gyre, 'shutting down: draining every worker') === 1, { what: 'the drain started' });
    // Mid-drain (the window is 4 s): worker A dies.
    await waitFor(() => clients.some((c) => c.codes.length > 0), { what: 'a first client drained', timeoutMs: 5000 });
    assert.ok(clients.some((c) => c.codes.length === 0), 'A still holds clients when it is killed');
    process.kill(a, 'SIGKILL');
    const exit = await exited;
    assert.deepEqual(exit, { code: 1, signal: null }, 'a worker that did not exit cleanly makes the exit code 1');
    assert.equal(lines(gyre, 'worker exited unexpectedly; restarting it'), 0, 'no restart during the shutdown');
    assert.equal(workerPids(gyre).length, 2, 'no new worker was forked');
    assert.equal(lines(gyre, 'shutdown complete'), 1, 'worker B finished its drain');
    assert.ok(!alive(a) && !alive(b), 'no worker left behind');
    await waitFor(() => clients.every((c) => c.codes.length > 0), { what: 'every client disconnected' });
  });
});
