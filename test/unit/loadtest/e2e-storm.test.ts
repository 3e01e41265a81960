// Small end-to-end runs of gyre-bench `storm` against the in-test fake server (pools in the test's own
// thread, `-w 0`): reconnect counting, and recovery of publications sent while the clients were away.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execute, parseArgs } from '../../../loadtest/src/cli.js';
import { FakeServer } from './fake-server.js';

const SECRET = 'test-secret';
const KEY = 'test-key';
let server: FakeServer;
let url = '';

before(async () => {
  server = new FakeServer({ hmacSecret: SECRET, apiKey: KEY, pingMs: 300 });
  ({ url } = await server.listen());
});

after(async () => {
  await server.close();
});

const quiet = (): void => undefined;

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
