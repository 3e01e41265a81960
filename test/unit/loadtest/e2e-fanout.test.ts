// Small end-to-end runs of gyre-bench `fanout` against the in-test fake server (pools in the test's own
// thread, `-w 0`), with JSON and HTML reports.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execute, parseArgs } from '../../../loadtest/src/cli.js';
import { DUMP_COLUMNS, readLatencyDump } from '../../../loadtest/src/latency-dump.js';
import { FakeServer } from './fake-server.js';

const SECRET = 'test-secret';
const KEY = 'test-key';
let server: FakeServer;
let url = '';
let api = '';
let dir = '';

before(async () => {
  server = new FakeServer({ hmacSecret: SECRET, apiKey: KEY, pingMs: 300 });
  ({ url, api } = await server.listen());
  dir = mkdtempSync(join(tmpdir(), 'gyre-bench-'));
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const quiet = (): void => undefined;

test('fanout: 50 subscribers over 5 channels, 2 stages via the HTTP API; no gaps, all delivered', async () => {
  const json = join(dir, 'fanout.json');
  const html = join(dir, 'fanout.html');
  const a = await parseArgs(['fanout', '--url', url, '--api', api, '--api-key', KEY, '--hmac-secret', SECRET, '-c', '50', '--channels', '5', '--publish-rate', '50,100', '-d', '500ms', '-w', '0', '--timeout', '30s', '-q', '--json', json, '--html', html, '--size', '200']);
  const { report, exitCode } = await execute(a, quiet);
  assert.ok(report !== null);
  assert.equal(exitCode, 0, report.error ?? '');
  assert.equal(report.stages.length, 2);
  for (const st of report.stages) {
    assert.ok(st.publish.sent > 0);
    assert.equal(st.publish.ok, st.publish.sent);
    assert.equal(st.deliveries, st.publish.sent * 10, 'each publication reaches the 10 subscribers of its channel');
    assert.equal(st.expectedDeliveries, st.deliveries);
    assert.equal(st.sequence.gaps, 0);
    assert.equal(st.sequence.duplicates, 0);
    assert.equal(st.latency.count, st.deliveries);
  }
  assert.equal(report.sequence.received, report.deliveries.total);
  const parsed = JSON.parse(readFileSync(json, 'utf8')) as typeof report;
  assert.equal(parsed.tool, 'gyre-bench');
  assert.equal(parsed.stages.length, 2);
  assert.equal(parsed.options['apiKey'], '***');
  assert.equal(parsed.options['hmacSecret'], '***');
  const page = readFileSync(html, 'utf8');
  assert.ok(page.includes('<svg'));
  assert.ok(!page.includes(KEY) && !page.includes(SECRET), 'secrets are not in the report');
});

test('fanout via a client connection', async () => {
  const a = await parseArgs(['fanout', '--url', url, '--hmac-secret', SECRET, '-c', '20', '--channels', '2', '--publish-rate', '50', '-d', '500ms', '-w', '0', '--publish-via', 'client', '--timeout', '30s', '-q']);
  const { report } = await execute(a, quiet);
  assert.ok(report !== null);
  const st = report.stages[0];
  assert.ok(st !== undefined && st.publish.sent > 0);
  assert.equal(st.publish.ok, st.publish.sent);
  assert.equal(st.deliveries, st.publish.sent * 10);
});

test('fanout --latency-dump: one row per delivery, each client once per publication of its channel', async () => {
  const prefix = join(dir, 'lat');
  const a = await parseArgs(['fanout', '--url', url, '--api', api, '--api-key', KEY, '--hmac-secret', SECRET, '-c', '12', '--channels', '3', '--publish-rate', '40', '-d', '400ms', '-w', '0', '--timeout', '30s', '-q', '--latency-dump', prefix]);
  const { report } = await execute(a, quiet);
  assert.ok(report !== null);
  const st = report.stages[0];
  assert.ok(st !== undefined && st.publish.sent > 0);
  const rows = readLatencyDump(readFileSync(`${prefix}.w0`));
  assert.equal(rows.length, st.deliveries * DUMP_COLUMNS);
  const seen = new Set<string>();
  for (let i = 0; i < rows.length; i += DUMP_COLUMNS) {
    const [client, seq, sent, received] = [rows[i]!, rows[i + 1]!, rows[i + 2]!, rows[i + 3]!];
    assert.ok(Number.isInteger(client) && client >= 0 && client < 12, `client index ${client}`);
    assert.ok(seq >= 1, `seq ${seq}`);
    assert.ok(received >= sent && received - sent < 30_000, `sent ${sent} received ${received}`);
    const key = `${client}/${seq}`;
    assert.ok(!seen.has(key), `delivery ${key} dumped twice`);
    seen.add(key);
  }
  // Client c subscribes channel c % 3: every client got every publication of its channel.
  const perChannel = [0, 1, 2].map((ch) => new Set([...seen].filter((k) => Number(k.split('/')[0]) % 3 === ch).map((k) => k.split('/')[1])).size);
  assert.equal(perChannel.reduce((x, y) => x + y, 0), st.publish.sent);
});
