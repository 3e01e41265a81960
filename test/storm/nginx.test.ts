// Admission behind a real nginx (docs/storm.md §5): a burst through nginx's WebSocket proxy against a Gyre with
// client.connection_rate_limit gets, for every client, either a 101 or Gyre's 503 with its Retry-After passed
// through unchanged; no 502/504 from nginx, no reset, no hang; the counter matches; nginx reloads fine after.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { nginxAvailable, startNginx, type NginxProcess } from '../harness/nginx.js';
import { baseConfig } from '../compat/base-config.js';
import { metricValue, probeUpgrade, scrape } from './probe.js';

const BURST = 300;
const RATE = 40;
const available = await nginxAvailable();

describe('storm: behind nginx', { skip: available ? false : 'nginx not installed' }, () => {
  let gyre: GyreProcess;
  let nginx: NginxProcess;
  before(async () => {
    gyre = await startGyre(
      mergeConfig(baseConfig(), {
        prometheus: { enabled: true },
        http_server: { warmup_connections: 0 },
        client: { connection_rate_limit: RATE },
      }),
      { bin: true },
    );
    nginx = await startNginx([gyre.port]);
  });
  after(async () => {
    await nginx?.stop();
    await gyre?.stop('SIGKILL');
  });

  it(`a burst of ${BURST} through nginx: 101 or Gyre's 503 + Retry-After, nothing else`, async () => {
    const before = metricValue(await scrape(gyre.baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
    const results = await Promise.all(Array.from({ length: BURST }, () => probeUpgrade(nginx.port)));
    const by = new Map<string, number>();
    for (const r of results) by.set(String(r.outcome), (by.get(String(r.outcome)) ?? 0) + 1);
    const refused = results.filter((r) => r.outcome === 503);
    const ok = by.get('101') ?? 0;
    console.log(`# through nginx: ${JSON.stringify(Object.fromEntries(by))}, slowest 503 ${Math.round(Math.max(...refused.map((r) => r.ms)))} ms`);
    assert.equal(ok + refused.length, BURST, `outcomes ${JSON.stringify([...by])}`);
    assert.ok(ok >= RATE && refused.length > 0);
    for (const r of refused) {
      assert.match(r.retryAfter ?? '', /^[1-5]$/);
      assert.equal(r.body, 'Service Unavailable: rate');
    }
    const after = metricValue(await scrape(gyre.baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
    assert.equal(after - before, refused.length);
    // nginx survives a reload with WebSockets open.
    await nginx.reload();
    assert.equal((await fetch(`http://127.0.0.1:${nginx.port}/ready`)).status, 200);
  });
});

describe('storm: draining node behind nginx with proxy_next_upstream http_503', { skip: available ? false : 'nginx not installed' }, () => {
  let a: GyreProcess;
  let b: GyreProcess;
  let nginx: NginxProcess;
  before(async () => {
    const cfg = (preDrain: string) =>
      mergeConfig(baseConfig(), {
        http_server: { warmup_connections: 0 },
        shutdown: { timeout: '10s', drain_duration: '1s', pre_drain_delay: preDrain },
      });
    [a, b] = await Promise.all([startGyre(cfg('3s'), { bin: true }), startGyre(cfg('0s'), { bin: true })]);
    nginx = await startNginx([a.port, b.port], { retry503: true });
  });
  after(async () => {
    await nginx?.stop();
    await a?.stop('SIGKILL');
    await b?.stop('SIGKILL');
  });

  it('while one node is not ready, nginx retries its 503 on the other: every client through nginx gets 101', async () => {
    process.kill(a.pid, 'SIGTERM');
    // Node A answers 503 itself from now on (pre-drain: 3 s)...
    for (let i = 0; i < 100; i++) {
      if ((await probeUpgrade(a.port)).outcome === 503) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await probeUpgrade(a.port)).outcome, 503);
    // ...and through nginx, which round-robins over A and B, nobody sees it.
    const results = await Promise.all(Array.from({ length: 60 }, () => probeUpgrade(nginx.port)));
    const outcomes = results.map((r) => r.outcome);
    assert.deepEqual([...new Set(outcomes)], [101], JSON.stringify(outcomes));
    assert.deepEqual(await a.exited, { code: 0, signal: null });
  });
});
