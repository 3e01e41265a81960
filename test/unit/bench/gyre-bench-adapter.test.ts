import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../../loadtest/src/cli.js';
import type { RunReport } from '../../../loadtest/src/report/json.js';
import { fromGyreBenchReport, gyreBenchArgs } from '../../../bench/lib/gyre-bench-adapter.js';
import type { RunningServer } from '../../../bench/lib/servers.js';
import { tableWorkloads, type Workload } from '../../../bench/lib/workloads.js';

const server: RunningServer = {
  peer: 'ws-bare',
  pid: 4242,
  port: 8123,
  clientUrl: 'ws://127.0.0.1:8123/connection/websocket',
  publishUrl: 'http://127.0.0.1:8123/api/publish',
  apiKey: 'k',
  hmacSecret: 's',
  protocol: 'centrifugo-json',
  output: () => '',
  alive: () => true,
  stop: () => Promise.resolve(),
};

const byId = (id: string): Workload => {
  const w = tableWorkloads(1).find((x) => x.id === id);
  if (w === undefined) throw new Error(id);
  return w;
};

test('every table workload maps to arguments gyre-bench itself accepts', async () => {
  for (const w of tableWorkloads(1)) {
    const a = await parseArgs(gyreBenchArgs(w, server, { workers: 2, jsonFile: '/tmp/x.json' }));
    assert.equal(a.options.url, server.clientUrl);
    assert.equal(a.options.api, 'http://127.0.0.1:8123/api');
    assert.equal(a.options.serverPid, 4242);
    assert.equal(a.options.rate, 0);
    assert.equal(a.options.workers, 2);
    assert.equal(a.options.hmacSecret, 's');
    if (w.kind === 'burst') {
      assert.equal(a.scenario, 'connect');
      assert.equal(a.options.clients, w.connections);
    } else if (w.kind === 'idle') {
      assert.equal(a.scenario, 'idle');
      assert.equal(a.options.durationMs, w.holdSec * 1000);
    } else {
      assert.equal(a.scenario, 'fanout');
      assert.ok(a.scenario === 'fanout');
      assert.equal(a.options.clients, w.channels * w.subscribersPerChannel);
      assert.equal(a.options.channels, w.channels);
      assert.deepEqual(a.options.publishRates, w.warmupSec > 0 ? [w.publishRate, w.publishRate] : [w.publishRate]);
      assert.equal(a.options.size, w.payloadBytes);
    }
  }
});

const lat = { count: 10, min: 1, mean: 2, p50: 2, p90: 3, p99: 4, p999: 5, max: 6 };
function report(over: Partial<RunReport>): RunReport {
  const base = {
    tool: 'gyre-bench',
    version: 1,
    clients: { requested: 10, subscribed: 9, connectedAtEnd: 9, attempts: 10, failed: 1, failures: { timeout: 1 }, drops: {} },
    timeToSubscribed: lat,
    stages: [],
    server: null,
    heldSec: null,
  };
  return { ...base, ...over } as unknown as RunReport;
}

test('burst report → timeToSubscribed, total = max, failures', () => {
  const r = fromGyreBenchReport(byId('burst'), report({}), null, null);
  assert.ok(r.kind === 'burst');
  assert.equal(r.subscribed, 9);
  assert.equal(r.failures, 1);
  assert.equal(r.totalMs, 6);
  assert.deepEqual(r.timeToSubscribed, { count: 10, p50: 2, p99: 4, max: 6 });
});

test('idle report → bytes per connection from KiB, hold CPU', () => {
  const server = { pid: 1, rssBeforeKb: 1000, rssAfterKb: 3000, rssPerConnectionKb: 2.5, cpuSeconds: 0.4, cpuPercent: 2, cpuPerConnectionPerSec: 0 };
  const r = fromGyreBenchReport(byId('idle'), report({ server, heldSec: 20 }), null, null);
  assert.ok(r.kind === 'idle');
  assert.equal(r.bytesPerConnection, 2560);
  assert.deepEqual(r.server, { cpuSeconds: 0.4, wallSeconds: 20, rssBeforeBytes: 1000 * 1024, rssAfterBytes: 3000 * 1024 });
});

test('fanout report → last stage; CPU per million from the sampled stage usage', () => {
  const stage = (perSec: number): RunReport['stages'][number] => ({
    name: 'x',
    publishRate: 5,
    durationSec: 10,
    publish: { sent: 50, ok: 49, failed: { http_500: 1 }, achievedRate: 5 },
    deliveries: perSec * 10,
    expectedDeliveries: 490_000,
    deliveriesPerSec: perSec,
    latency: lat,
    latencyBuckets: [],
    sequence: { received: 0, inOrder: 0, gaps: 0, missing: 0, duplicates: 0 },
  });
  const usage = { cpuSeconds: 5, wallSeconds: 10, rssBeforeBytes: 1, rssAfterBytes: 2 };
  const r = fromGyreBenchReport(byId('fanout-1x10000@5'), report({ stages: [stage(1), stage(50_000)] }), usage, null);
  assert.ok(r.kind === 'fanout');
  assert.equal(r.deliveriesPerSec, 50_000);
  assert.equal(r.published, 49);
  assert.equal(r.publishErrors, 1);
  assert.equal(r.cpuSecondsPerMillion, 10); // 0.5 CPU-s per s ÷ 50,000 deliveries/s × 1e6
  assert.throws(() => fromGyreBenchReport(byId('fanout-1x10000@5'), report({}), null, null), /no fan-out stage/);
});
