// Admission before the upgrade (docs/storm.md §1) on real `node bin/gyre.js` processes: a burst above
// client.connection_rate_limit gets 503 + Retry-After for the excess (never a reset or a hang), counted by reason;
// official centrifuge clients refused that way end up connected through their own backoff; the per-IP limit and
// client.connection_limit refuse the same way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { sleep, waitFor } from '../harness/wait.js';
import { buildFrame } from '../../loadtest/src/raw-ws.js';
import { firstFrame } from '../../loadtest/src/lean-client.js';
import { baseConfig } from '../compat/base-config.js';
import { metricValue, probeUpgrade, scrape, type ProbeResult } from './probe.js';

const BURST = 300;
const RATE = 40;

function storm(extra: Record<string, unknown>): Record<string, unknown> {
  return mergeConfig(mergeConfig(baseConfig(), { log: { level: 'info' }, prometheus: { enabled: true }, http_server: { warmup_connections: 0 } }), extra);
}

describe('storm: admission', () => {
  let gyre: GyreProcess;
  const pool = new ClientPool();
  before(async () => {
    gyre = await startGyre(storm({ client: { connection_rate_limit: RATE, ip_connection_limit: 0 } }), { bin: true });
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop('SIGKILL');
  });

  it(`a burst of ${BURST} upgrades at ${RATE}/s: the excess gets 503 with Retry-After 1-5, no reset, no hang`, async () => {
    const before = metricValue(await scrape(gyre.baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
    const burst = Promise.all(Array.from({ length: BURST }, () => probeUpgrade(gyre.port)));
    const others = await Promise.all(['/health', '/metrics'].map(async (p) => [p, (await fetch(`${gyre.baseUrl}${p}`)).status] as const));
    const results = await burst;
    const by = new Map<string, number>();
    for (const r of results) by.set(String(r.outcome), (by.get(String(r.outcome)) ?? 0) + 1);
    const ok = by.get('101') ?? 0;
    const refused = results.filter((r) => r.outcome === 503);
    assert.equal(ok + refused.length, BURST, `outcomes ${JSON.stringify([...by])}`);
    // The bucket holds RATE tokens and refills at RATE/s: the burst (well under a second) lets in about RATE.
    assert.ok(ok >= RATE && ok < BURST / 2, `admitted ${ok}`);
    // Diagnostic only (no timing assertion in npm test): how long the slowest refusal took.
    console.log(`# refused ${refused.length}/${BURST}, slowest 503 after ${Math.round(Math.max(...refused.map((r) => r.ms)))} ms`);
    for (const r of refused) {
      assert.match(r.retryAfter ?? '', /^[1-5]$/);
      assert.equal(r.body, 'Service Unavailable: rate');
    }
    // Jittered: not every refused client is told the same moment.
    assert.ok(new Set(refused.map((r) => r.retryAfter)).size >= 3);
    // Requests that came in behind the burst, while the bucket was empty (upgrades then get 503 from their first
    // bytes): the other endpoints still answer.
    for (const [path, status] of others) assert.equal(status, 200, path);
    const after = metricValue(await scrape(gyre.baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
    assert.equal(after - before, refused.length);
    // Logged once per interval, not once per client.
    const lines = gyre.stdout().split('\n').filter((l) => l.includes('busy: rate'));
    assert.ok(lines.length >= 1 && lines.length <= 3, `${lines.length} log lines`);
  });

  it('official centrifuge clients refused by the rate limit connect through their backoff', async () => {
    const N = 60;
    const refusedBefore = metricValue(await scrape(gyre.baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
    const token = await connToken({ sub: 'storm', expIn: 3600 });
    let connected = 0;
    // All at once, sooner than the bucket refills.
    for (let i = 0; i < N; i++) {
      const { client } = pool.json(gyre.url, { token, minReconnectDelay: 200, maxReconnectDelay: 2000, timeout: 5000 });
      client.on('connected', () => connected++);
      client.connect();
    }
    await waitFor(() => connected === N, { what: `${N} clients connected`, timeoutMs: 20_000 });
    // Some of them were refused first (else this proved nothing about the backoff path).
    const refused = metricValue(await scrape(gyre.baseUrl), 'gyre_admission_refused_total', 'reason="rate"') - refusedBefore;
    assert.ok(refused > 0, 'no client was refused');
    pool.closeAll();
  });

  it(`clients arriving at ${4 * RATE}/s for 1 s over 127.0.0.1-4: each gets 101 (then its connect reply) or 503 rate`, async () => {
    await sleep(1200); // the bucket is full again
    const token = await connToken({ sub: 'arrivals', expIn: 3600 });
    const connect = buildFrame(1, firstFrame(token, null));
    const probes: Promise<ProbeResult>[] = [];
    const t0 = performance.now();
    while (probes.length < 4 * RATE) {
      const due = Math.min(4 * RATE, Math.floor((performance.now() - t0) * 4 * RATE / 1000) + 1);
      while (probes.length < due) probes.push(probeUpgrade(gyre.port, undefined, 5000, { localAddress: `127.0.0.${(probes.length % 4) + 1}`, afterUpgrade: connect }));
      await sleep(5);
    }
    const results = await Promise.all(probes);
    const ok = results.filter((r) => r.outcome === 101).length;
    const refused = results.filter((r) => r.outcome === 503);
    assert.equal(ok + refused.length, results.length, `outcomes ${JSON.stringify(results.map((r) => r.outcome).filter((o) => o !== 101 && o !== 503))}`);
    assert.ok(ok >= RATE && refused.length > 0, `admitted ${ok}, refused ${refused.length}`);
    for (const r of refused) assert.equal(r.body, 'Service Unavailable: rate');
    // Diagnostic only (no timing assertion in npm test).
    console.log(`# ${ok} admitted, ${refused.length} refused, slowest 503 after ${Math.round(Math.max(...refused.map((r) => r.ms)))} ms`);
  });
});

describe('storm: per-IP limit', () => {
  let gyre: GyreProcess;
  before(async () => {
    gyre = await startGyre(storm({ client: { ip_connection_limit: 5 } }), { bin: true });
  });
  after(async () => {
    await gyre?.stop('SIGKILL');
  });

  it('the 6th connection from 127.0.0.1 gets 503 ip_limit; a closed one frees its slot', async () => {
    const { RawWebSocket, targetFor } = await import('../../loadtest/src/raw-ws.js');
    const target = targetFor(gyre.url);
    const opened: InstanceType<typeof RawWebSocket<{ open: boolean }>>[] = [];
    const handler = {
      onOpen: (ws: { ctx: { open: boolean } }) => {
        ws.ctx.open = true;
      },
      onMessage: () => undefined,
      onError: () => undefined,
      onClose: () => undefined,
    };
    for (let i = 0; i < 5; i++) opened.push(new RawWebSocket(target, handler, { open: false }));
    await waitFor(() => opened.every((w) => w.ctx.open), { what: '5 open' });
    const sixth = await probeUpgrade(gyre.port);
    assert.equal(sixth.outcome, 503);
    assert.equal(sixth.body, 'Service Unavailable: ip_limit');
    assert.match(sixth.retryAfter ?? '', /^[1-5]$/);
    opened[0]?.terminate();
    await waitFor(async () => (await probeUpgrade(gyre.port)).outcome === 101, { what: 'slot freed' });
    for (const w of opened) w.terminate();
  });
});

describe('storm: connection_rate_limit with 2 worker processes', () => {
  const rate = 10;
  let gyre: GyreProcess;
  before(async () => {
    gyre = await startGyre(storm({ client: { connection_rate_limit: rate } }), { bin: true, args: ['--workers', '2'] });
  });
  after(async () => {
    await gyre?.stop('SIGKILL');
  });

  it(`the workers split the limit: a burst lets in about ${rate} (one bucket of ${rate / 2} per worker), not ${2 * rate}`, async () => {
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 100 }, () => probeUpgrade(gyre.port)));
    const elapsedS = (performance.now() - t0) / 1000;
    const ok = results.filter((r) => r.outcome === 101).length;
    const refused = results.filter((r) => r.outcome === 503);
    assert.equal(ok + refused.length, results.length);
    for (const r of refused) assert.equal(r.body, 'Service Unavailable: rate');
    // Each worker's bucket holds rate/2 and refills at rate/2 per second, so the node lets in at most
    // rate × (1 + the burst's duration); unsplit buckets would let in twice that.
    assert.ok(ok >= 1 && ok <= Math.ceil(rate * (1 + elapsedS)) + 1, `admitted ${ok} in ${elapsedS.toFixed(2)} s`);
  });
});
