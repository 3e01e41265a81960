// Graceful shutdown on SIGTERM: every client gets close 3001 "shutdown" and the process exits 0 within
// shutdown.timeout (docs/protocol.md §2.3 3001, §7.1, §9.1, §10.5, §11 step 7).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectingContext } from 'centrifuge';
import { ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor, withTimeout } from '../harness/wait.js';
import { baseConfig } from './base-config.js';
import { subscribeOutcome } from './outcome.js';

const SHUTDOWN_TIMEOUT_MS = 4000;

describe('compat: graceful shutdown', () => {
  let gyre: GyreProcess;
  const pool = new ClientPool();
  before(async () => {
    gyre = await startGyre(mergeConfig(baseConfig(), { shutdown: { timeout: `${SHUTDOWN_TIMEOUT_MS / 1000}s` } }));
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop('SIGKILL');
  });

  it('SIGTERM ⇒ close 3001 "shutdown" to every client, exit code 0 within shutdown.timeout', async () => {
    const token = await connToken({ sub: 'sd', expIn: 3600 });
    // A centrifuge-js client with a subscription...
    const { client, rec } = pool.json(gyre.url, { token, minReconnectDelay: 5000, maxReconnectDelay: 6000 });
    client.connect();
    assert.equal((await subscribeOutcome(client.newSubscription('open:sd'))).kind, 'subscribed');
    // ...and a few raw sockets.
    const raws = await Promise.all(
      [0, 1, 2].map(async () => {
        const ws = pool.raw(gyre.url);
        const closed = new Promise<{ code: number; reason: string }>((resolve) => {
          ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') }));
        });
        const frames: string[] = [];
        ws.on('message', (d: Buffer) => frames.push(d.toString('utf8')));
        await nextEvent(ws, 'open');
        ws.send(`{"connect":{"token":"${token}"},"id":1}`);
        await waitFor(() => frames.length > 0, { what: 'connect reply' });
        return { closed };
      }),
    );

    const connecting = nextEvent<ConnectingContext>(client, 'connecting', SHUTDOWN_TIMEOUT_MS + 2000);
    const t0 = Date.now();
    const exit = await gyre.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + 3000);
    const elapsed = Date.now() - t0;

    assert.deepEqual(exit, { code: 0, signal: null }, `exit after ${elapsed} ms\n${gyre.stderr()}`);
    // Slack of 2 s over shutdown.timeout for process teardown on a loaded machine.
    assert.ok(elapsed < SHUTDOWN_TIMEOUT_MS + 2000, `exited in ${elapsed} ms (timeout ${SHUTDOWN_TIMEOUT_MS} ms)`);
    for (const { closed } of raws) {
      assert.deepEqual(await withTimeout(closed, 2000, 'raw close'), { code: 3001, reason: 'shutdown' });
    }
    const ctx = await connecting;
    assert.deepEqual({ code: ctx.code, reason: ctx.reason }, { code: 3001, reason: 'shutdown' });
    assert.deepEqual(rec.closes[0], { socket: 0, code: 3001, reason: 'shutdown' });
    client.disconnect();
  });
});
