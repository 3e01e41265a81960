// Small end-to-end runs of gyre-bench against the in-test fake server. The first test uses a real worker
// thread and one test uses child processes; the rest run their pool in the test's own thread (`-w 0`,
// same PoolHost/ConnPool/LeanClient code, same messages) so that the file takes seconds.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execute, parseArgs } from '../../../loadtest/src/cli.js';
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

test('connect (worker thread): 50 clients subscribe; tokens are verified; pings are answered', async () => {
  const a = await parseArgs(['connect', '--url', url, '-c', '50', '-w', '1', '--hmac-secret', SECRET, '--hold', '1s', '--timeout', '20s', '-q', '--source-ips', '127.0.0.1-127.0.0.2']);
  const pongsBefore = server.pongs;
  const { report, exitCode } = await execute(a, quiet);
  assert.ok(report !== null);
  assert.equal(exitCode, 0, report.error ?? '');
  assert.equal(report.stopReason, 'completed');
  assert.equal(report.clients.subscribed, 50);
  assert.equal(report.clients.failed, 0);
  assert.equal(report.timeToSubscribed.count, 50);
  assert.ok(report.pingsReceived > 0, 'server pings arrived');
  assert.ok(server.pongs > pongsBefore, 'pongs were sent because connect said pong:true');
  assert.ok(report.generator !== null);
  assert.equal(report.generator.pools, 1);
  assert.notEqual(report.generator.mode, 'inline');
  assert.equal(typeof report.generator.connectPhase.openSpanMs, 'number');
});

test('connect --processes 2: clients, source addresses and results are split over two processes', async () => {
  const before = server.connects;
  server.remoteAddresses.clear();
  const a = await parseArgs(['connect', '--url', url, '-c', '30', '-w', '0', '--processes', '2', '--hmac-secret', SECRET, '--timeout', '20s', '-q', '--source-ips', '127.0.0.1-127.0.0.2']);
  const { report, exitCode } = await execute(a, quiet);
  assert.ok(report !== null);
  assert.equal(exitCode, 0, report.error ?? '');
  assert.equal(report.clients.subscribed, 30);
  assert.equal(report.timeToSubscribed.count, 30, 'histograms of both processes are merged');
  assert.equal(server.connects - before, 30);
  assert.deepEqual([...server.remoteAddresses].sort(), ['127.0.0.1', '127.0.0.2']);
  assert.ok(report.generator !== null);
  assert.equal(report.generator.processes, 2);
  assert.equal(report.generator.pools, 2);
  assert.ok(report.generator.connectPhase.cpuMs >= 0);
  assert.equal(report.limits.processes, 2);
});

test('connect --hold with --publish-rate: publications during the hold arrive in order', async () => {
  const a = await parseArgs(['connect', '--url', url, '--api', api, '--api-key', KEY, '--hmac-secret', SECRET, '-c', '20', '-w', '0', '--channels', '2', '--hold', '1s', '--publish-rate', '40', '--timeout', '20s', '-q']);
  const { report, exitCode } = await execute(a, quiet);
  assert.ok(report !== null);
  assert.equal(exitCode, 0, report.error ?? '');
  const st = report.stages[0];
  assert.ok(st !== undefined && st.name === 'hold');
  assert.ok(st.publish.sent > 0);
  assert.equal(st.publish.ok, st.publish.sent);
  assert.equal(st.deliveries, st.publish.sent * 10);
  assert.equal(st.expectedDeliveries, st.deliveries);
  assert.equal(st.sequence.received, st.deliveries);
  assert.equal(st.sequence.inOrder, st.deliveries);
  assert.equal(st.sequence.gaps + st.sequence.duplicates, 0);
});

test('connect: a wrong secret fails every client with the close code as cause', async () => {
  const a = await parseArgs(['connect', '--url', url, '-c', '10', '-w', '0', '--hmac-secret', 'wrong', '--timeout', '20s', '-q']);
  const { report } = await execute(a, quiet);
  assert.ok(report !== null);
  assert.equal(report.clients.subscribed, 0);
  assert.deepEqual(report.clients.failures, { close_3500: 10 });
});

test('connect: refused connections are reported as ECONNREFUSED', async () => {
  const a = await parseArgs(['connect', '--url', 'ws://127.0.0.1:1/connection/websocket', '-c', '5', '-w', '0', '--timeout', '20s', '-q']);
  const { report } = await execute(a, quiet);
  assert.ok(report !== null);
  assert.deepEqual(report.clients.failures, { ECONNREFUSED: 5 });
});

test('fanout: 50 subscribers over 5 channels, 2 stages via the HTTP API; no gaps, all delivered', async () => {
  const json = join(dir, 'fanout.json');
  const html = join(dir, 'fanout.html');
  const a = await parseArgs(['fanout', '--url', url, '--api', api, '--api-key', KEY, '--hmac-secret', SECRET, '-c', '50', '--channels', '5', '--publish-rate', '50,100', '-d', '1s', '-w', '0', '--timeout', '30s', '-q', '--json', json, '--html', html, '--size', '200']);
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
  const a = await parseArgs(['fanout', '--url', url, '--hmac-secret', SECRET, '-c', '20', '--channels', '2', '--publish-rate', '50', '-d', '1s', '-w', '0', '--publish-via', 'client', '--timeout', '30s', '-q']);
  const { report } = await execute(a, quiet);
  assert.ok(report !== null);
  const st = report.stages[0];
  assert.ok(st !== undefined && st.publish.sent > 0);
  assert.equal(st.publish.ok, st.publish.sent);
  assert.equal(st.deliveries, st.publish.sent * 10);
});

test('storm --wait-drop: clients dropped by the server reconnect and are counted', async () => {
  const a = await parseArgs(['storm', '--url', url, '--hmac-secret', SECRET, '-c', '40', '-w', '0', '--wait-drop', '--max-delay', '300ms', '-d', '10s', '--timeout', '30s', '-q']);
  let waiting = false;
  const run = execute(a, quiet, (line) => {
    if (line.startsWith('waiting up to')) waiting = true;
  });
  // Drop everyone once the scenario has taken its baseline and waits for drops.
  const end = Date.now() + 20_000;
  while (!waiting && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.ok(waiting, 'storm reached its wait phase');
  assert.equal(server.dropAll(3001, 'shutdown'), 40);
  const { report } = await run;
  assert.ok(report !== null && report.storm !== null);
  assert.equal(report.storm.dropped, 40);
  assert.equal(report.storm.resubscribed, 40);
  assert.deepEqual(report.clients.drops, { close_3001: 40 });
  assert.equal(report.storm.reconnectTime.count, 40);
  assert.equal(report.storm.connectRate.reduce((s, b) => s + b.count, 0), 40);
});

async function stormWithHistory(historySize: number, maxDelay: string): Promise<NonNullable<Awaited<ReturnType<typeof execute>>['report']>> {
  const hist = new FakeServer({ hmacSecret: SECRET, apiKey: KEY, historySize });
  const h = await hist.listen();
  try {
    const a = await parseArgs(['storm', '--url', h.url, '--api', h.api, '--api-key', KEY, '--hmac-secret', SECRET, '-c', '20', '-w', '0', '--channels', '2', '--publish-rate', '100', '--wait-drop', '--max-delay', maxDelay, '-d', '10s', '--timeout', '30s', '-q']);
    let waiting = false;
    const run = execute(a, quiet, (line) => {
      if (line.startsWith('waiting up to')) waiting = true;
    });
    const end = Date.now() + 20_000;
    while (!waiting && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(waiting, 'storm reached its wait phase');
    assert.equal(hist.dropAll(3001, 'shutdown'), 20);
    const { report } = await run;
    assert.ok(report !== null && report.storm !== null);
    return report;
  } finally {
    await hist.close();
  }
}

test('storm with history: resubscribes recover what was published while away; no gaps, no duplicates', async () => {
  const report = await stormWithHistory(1000, '300ms');
  const rc = report.storm?.recovery;
  assert.ok(rc !== undefined);
  assert.equal(rc.requested, 20);
  assert.equal(rc.recovered, 20);
  assert.equal(rc.notRecovered, 0);
  assert.equal(rc.lostPublications, 0);
  assert.ok(rc.recoveredPublications > 0, 'publications sent while the clients were away came back in the replies');
  const st = report.stages[0];
  assert.ok(st !== undefined && st.publish.sent > 0);
  assert.equal(st.sequence.gaps, 0);
  assert.equal(st.sequence.duplicates, 0);
  assert.equal(st.deliveries, st.publish.sent * 10, 'every subscriber got every publication, live or recovered');
});

test('storm with a too-short history: unrecovered resubscribes and the lost publications are counted', async () => {
  const report = await stormWithHistory(1, '600ms');
  const rc = report.storm?.recovery;
  assert.ok(rc !== undefined);
  assert.equal(rc.requested, 20);
  assert.ok(rc.notRecovered > 0, 'gaps larger than the history cannot be recovered');
  assert.equal(rc.recovered + rc.notRecovered, 20);
  assert.equal(rc.epochChanged, 0);
  assert.ok(rc.lostPublications > 0);
  const st = report.stages[0];
  assert.ok(st !== undefined);
  assert.equal(st.deliveries + rc.lostPublications, st.publish.sent * 10, 'delivered + lost = published × subscribers');
});
