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
