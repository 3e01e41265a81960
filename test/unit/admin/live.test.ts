import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveSampler, type LiveSample } from '../../../src/admin/live.js';
import { metrics } from '../../../src/metrics/registry.js';
import { waitFor } from '../../harness/wait.js';

describe('LiveSampler', () => {
  it('samples only while someone listens, as per-second deltas of the counters', async () => {
    let clients = 3;
    const sampler = new LiveSampler(
      {
        stats: () => ({ clients, users: 1, subscriptions: 2, channels: 1 }),
        info: () => Promise.resolve([]),
        engineHealth: () => ({ ok: false, problems: ['shard 0 down'] }),
        shuttingDown: () => false,
      },
      50,
    );
    assert.equal(sampler.active, false);
    const got: LiveSample[] = [];
    const stop = sampler.subscribe((s) => got.push(s));
    assert.equal(sampler.active, true);
    await waitFor(() => got.length >= 1, { what: 'first sample' });
    metrics.handshakeRejected.labels('origin').inc(5);
    metrics.serverDisconnects.inc({ code: '3001' }, 2);
    clients = 7;
    await waitFor(() => got.some((s) => (s.refusals['origin'] ?? 0) > 0), { what: 'a refusal delta' });
    const s = got.find((x) => (x.refusals['origin'] ?? 0) > 0)!;
    assert.ok((s.disconnects['3001'] ?? 0) > 0);
    assert.equal(s.clients, 7);
    assert.deepEqual(s.engine, { ok: false, problems: ['shard 0 down'] });
    assert.ok(s.loopLagMaxMs >= 0);
    stop();
    assert.equal(sampler.active, false);
    const n = got.length;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(got.length, n, 'no samples after the last listener left');
    assert.ok(sampler.recent().length >= 2);
  });
});
