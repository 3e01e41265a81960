// Small end-to-end runs of gyre-bench `connect` against the in-test fake server. The first test uses a real
// worker thread and one uses two child processes; the rest run their pool in the test's own thread (`-w 0`:
// the same PoolHost/ConnPool/LeanClient code and messages, without a thread's start-up cost).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execute, parseArgs } from '../../../loadtest/src/cli.js';
import { FakeServer } from './fake-server.js';

const SECRET = 'test-secret';
const KEY = 'test-key';
let server: FakeServer;
let url = '';
let api = '';

before(async () => {
  server = new FakeServer({ hmacSecret: SECRET, apiKey: KEY, pingMs: 300 });
  ({ url, api } = await server.listen());
});

after(async () => {
  await server.close();
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
