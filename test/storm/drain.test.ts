// Paced drain on SIGTERM (docs/storm.md §2) on a real `node bin/gyre.js`: readiness answers 503 before the first
// client is closed, new upgrades get 503 + Retry-After, and every connected client gets 3001 "shutdown" at a
// moment spread over shutdown.drain_duration (coarse check of the close times' distribution).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawWebSocket, targetFor } from '../../loadtest/src/raw-ws.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { sleep, waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';
import { drainClientHandler, probeUpgrade, type DrainClient } from './probe.js';

const N = 200;
const WINDOW_MS = 2000;
const PRE_DRAIN_MS = 300;

describe('storm: paced drain', () => {
  let gyre: GyreProcess;
  const sockets: RawWebSocket<DrainClient>[] = [];
  before(async () => {
    gyre = await startGyre(
      mergeConfig(baseConfig(), {
        http_server: { warmup_connections: 0 },
        shutdown: { timeout: '8s', drain_duration: `${WINDOW_MS}ms`, pre_drain_delay: `${PRE_DRAIN_MS}ms` },
      }),
      { bin: true },
    );
  });
  after(async () => {
    for (const s of sockets) s.terminate();
    await gyre?.stop('SIGKILL');
  });

  it(`${N} clients get 3001 spread over ${WINDOW_MS} ms; readiness 503 and new upgrades refused first`, async () => {
    const token = await connToken({ sub: 'drain', expIn: 3600 });
    const target = targetFor(gyre.url);
    const connectCmd = `{"connect":{"token":"${token}"},"id":1}`;
    const h = drainClientHandler(connectCmd);
    for (let i = 0; i < N; i++) sockets.push(new RawWebSocket(target, h, { connected: false, closedAt: 0, code: 0, reason: '' }));
    await waitFor(() => sockets.every((s) => s.ctx.connected), { what: `${N} connected`, timeoutMs: 20_000 });
    assert.equal((await fetch(`${gyre.baseUrl}/ready`)).status, 200);

    const t0 = performance.now();
    process.kill(gyre.pid, 'SIGTERM');
    // Readiness: poll until 503 (bounded).
    let notReadyAt = 0;
    for (let i = 0; i < 200 && notReadyAt === 0; i++) {
      const r = await fetch(`${gyre.baseUrl}/ready`).catch(() => null);
      if (r !== null && r.status === 503) notReadyAt = performance.now();
      else await sleep(10);
    }
    assert.ok(notReadyAt > 0, 'readiness never went 503');
    const refused = await probeUpgrade(gyre.port);
    assert.equal(refused.outcome, 503);
    assert.equal(refused.body, 'Service Unavailable: shutdown');
    assert.match(refused.retryAfter ?? '', /^[1-5]$/);
    // /health (liveness) still answers 200 during the drain.
    assert.equal((await fetch(`${gyre.baseUrl}/health`)).status, 200);

    const exit = await gyre.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, gyre.stderr());
    await waitFor(() => sockets.every((s) => s.ctx.closedAt > 0), { what: 'all closed' });
    for (const s of sockets) assert.deepEqual({ code: s.ctx.code, reason: s.ctx.reason }, { code: 3001, reason: 'shutdown' });

    const times = sockets.map((s) => s.ctx.closedAt).sort((a, b) => a - b);
    const first = times[0] as number;
    const last = times[times.length - 1] as number;
    assert.ok(notReadyAt < first, `not ready at ${Math.round(notReadyAt - t0)} ms, first close at ${Math.round(first - t0)} ms`);
    // Coarse distribution checks: spread over most of the window, not bunched at its start.
    const drainStart = first;
    const inFirstTenth = times.filter((t) => t - drainStart < WINDOW_MS * 0.1).length;
    const inLastHalf = times.filter((t) => t - drainStart >= WINDOW_MS * 0.5).length;
    console.log(
      `# closes over ${Math.round(last - first)} ms (window ${WINDOW_MS}); first tenth ${inFirstTenth}, last half ${inLastHalf}; not ready after ${Math.round(notReadyAt - t0)} ms`,
    );
    assert.ok(last - first >= WINDOW_MS * 0.6, `spread ${Math.round(last - first)} ms`);
    assert.ok(inFirstTenth < N * 0.3, `${inFirstTenth} of ${N} in the first tenth`);
    assert.ok(inLastHalf > N * 0.25, `${inLastHalf} of ${N} in the last half`);
  });
});
