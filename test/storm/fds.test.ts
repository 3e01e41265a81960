// File descriptors (docs/storm.md §3) on real `node bin/gyre.js` processes started under `prlimit`: the soft
// RLIMIT_NOFILE is raised to the hard one at start, /metrics shows open and max fds, and near the limit new
// upgrades get 503 `fds` instead of failing in accept() or later in the engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawWebSocket, targetFor, type RawWsHandler } from '../../loadtest/src/raw-ws.js';
import { mergeConfig, startGyre } from '../harness/gyre.js';
import { sleep, waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';
import { metricValue, probeUpgrade, scrape } from './probe.js';

function config(extra: Record<string, unknown>): Record<string, unknown> {
  return mergeConfig(
    mergeConfig(baseConfig(), { log: { level: 'info' }, prometheus: { enabled: true }, http_server: { warmup_connections: 0 } }),
    extra,
  );
}

const handler: RawWsHandler<{ open: boolean }> = {
  onOpen: (ws) => {
    ws.ctx.open = true;
  },
  onMessage: () => undefined,
  onError: () => undefined,
  onClose: () => undefined,
};

describe('storm: file descriptors', () => {
  it('runs with the soft limit raised to the hard one, reports it on /metrics, warns below connection_limit', async () => {
    const gyre = await startGyre(config({ client: { connection_limit: 5000 } }), {
      bin: true,
      wrap: ['prlimit', '--nofile=512:4096'],
    });
    try {
      const m = await scrape(gyre.baseUrl);
      assert.equal(metricValue(m, 'gyre_fds_limit'), 4096);
      assert.ok(metricValue(m, 'gyre_fds_open') > 5);
      assert.ok(metricValue(m, 'gyre_host_tcp_sockets', 'state="inuse"') > 0);
      assert.match(gyre.stdout(), /"fd_limit":4096,"connection_limit":5000.*open-files limit below client.connection_limit/);
    } finally {
      await gyre.stop('SIGKILL');
    }
  });

  it('near the limit, new upgrades get 503 fds (and connections already open stay)', async () => {
    const LIMIT = 200;
    const gyre = await startGyre(config({ http_server: { fd_reserve: 100 } }), {
      bin: true,
      wrap: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`],
    });
    const sockets: RawWebSocket<{ open: boolean }>[] = [];
    try {
      const target = targetFor(gyre.url);
      let refused = null as Awaited<ReturnType<typeof probeUpgrade>> | null;
      // Open connections in steps of 20 until the node refuses (it samples its fd count once a second).
      for (let step = 0; step < 10 && refused === null; step++) {
        for (let i = 0; i < 20; i++) sockets.push(new RawWebSocket(target, handler, { open: false }));
        await waitFor(() => sockets.every((s) => s.ctx.open || s.readyState === 3), { what: 'step opened' });
        await sleep(1200);
        const r = await probeUpgrade(gyre.port);
        if (r.outcome === 503) refused = r;
        else assert.equal(r.outcome, 101);
      }
      assert.ok(refused !== null, 'never refused near the fd limit');
      assert.equal(refused.body, 'Service Unavailable: fds');
      assert.match(refused.retryAfter ?? '', /^[1-5]$/);
      const m = await scrape(gyre.baseUrl);
      assert.ok(metricValue(m, 'gyre_admission_refused_total', 'reason="fds"') >= 1);
      assert.ok(metricValue(m, 'gyre_fds_open') >= LIMIT - 100 - 5);
      assert.ok(sockets.filter((s) => s.ctx.open && s.readyState === 1).length >= 60);
    } finally {
      for (const s of sockets) s.terminate();
      await gyre.stop('SIGKILL');
    }
  });
});
