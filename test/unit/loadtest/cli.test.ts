import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSourceAddresses } from '../../../loadtest/src/addresses.js';
import { parseArgs, preflight } from '../../../loadtest/src/cli.js';
import { parseDuration, parseRates, parseSize } from '../../../loadtest/src/options.js';

test('source address ranges and lists', () => {
  assert.deepEqual(parseSourceAddresses('127.0.0.1-127.0.0.4'), ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']);
  assert.deepEqual(parseSourceAddresses('127.0.0.1-3'), ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  assert.deepEqual(parseSourceAddresses('127.0.0.5, 127.0.0.2,127.0.0.5'), ['127.0.0.5', '127.0.0.2']);
  assert.deepEqual(parseSourceAddresses('127.0.0.254-127.0.1.1'), ['127.0.0.254', '127.0.0.255', '127.0.1.0', '127.0.1.1']);
  assert.throws(() => parseSourceAddresses('10.0.0.1'), RangeError);
  assert.throws(() => parseSourceAddresses('127.0.0.8-127.0.0.1'), RangeError);
  assert.throws(() => parseSourceAddresses('127.0.0.1-127.0.9.1'), RangeError);
  assert.throws(() => parseSourceAddresses('127.0.0.300'), RangeError);
});

test('value parsers', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.throws(() => parseDuration('soon'), RangeError);
  assert.equal(parseSize('1k'), 1024);
  assert.equal(parseSize('300'), 300);
  assert.deepEqual(parseRates('100, 500,1000'), [100, 500, 1000]);
  assert.throws(() => parseRates('100,-1'), RangeError);
});

test('connect: defaults and common options', async () => {
  const a = await parseArgs(['connect', '--clients', '2000', '--rate', '500', '--source-ips', '127.0.0.1-127.0.0.8', '--timeout', '30s', '--hmac-secret', 's3', '--workers', '3']);
  assert.equal(a.scenario, 'connect');
  if (a.scenario !== 'connect') return;
  const o = a.options;
  assert.equal(o.clients, 2000);
  assert.equal(o.rate, 500);
  assert.equal(o.workers, 3);
  assert.equal(o.sourceIps.length, 8);
  assert.equal(o.sourceIps[7], '127.0.0.8');
  assert.equal(o.timeoutMs, 30_000);
  assert.equal(o.hmacSecret, 's3');
  assert.equal(o.url, 'ws://127.0.0.1:8000/connection/websocket');
  assert.equal(o.connectTimeoutMs, 10_000);
  assert.equal(o.tokenTtlSeconds, 3600);
  assert.equal(o.holdMs, 0);
  assert.equal(o.json, null);
});

test('fanout: staged rates, size, channels, publish-via', async () => {
  const a = await parseArgs(['fanout', '-c', '1000', '--channels', '4', '--publish-rate', '100,500,1000', '--size', '1k', '--publish-via', 'client', '--api-key', 'k', '-d', '2s']);
  assert.equal(a.scenario, 'fanout');
  if (a.scenario !== 'fanout') return;
  assert.deepEqual(a.options.publishRates, [100, 500, 1000]);
  assert.equal(a.options.size, 1024);
  assert.equal(a.options.channels, 4);
  assert.equal(a.options.publishVia, 'client');
  assert.equal(a.options.apiKey, 'k');
  assert.equal(a.options.durationMs, 2000);
  const d = await parseArgs(['fanout']);
  assert.ok(d.scenario === 'fanout' && d.options.publishVia === 'api' && d.options.publishRates[0] === 100 && d.options.size === 128);
});

test('storm: needs a trigger; max-delay parsed', async () => {
  await assert.rejects(parseArgs(['storm', '-c', '10']), /restart-cmd|wait-drop/);
  const a = await parseArgs(['storm', '--wait-drop', '--max-delay', '500ms']);
  assert.ok(a.scenario === 'storm' && a.options.waitDrop && a.options.maxDelayMs === 500 && a.options.restartCmd === null);
});

test('bad option values and unknown scenarios are rejected', async () => {
  await assert.rejects(parseArgs(['connect', '--clients', 'many']));
  await assert.rejects(parseArgs(['connect', '--source-ips', '192.168.1.1']));
  await assert.rejects(parseArgs(['fanout', '--publish-via', 'carrier-pigeon']));
  await assert.rejects(parseArgs(['explode']));
});

test('preflight refuses non-loopback targets and reports limit problems', async () => {
  const a = await parseArgs(['connect', '--url', 'ws://example.com/connection/websocket', '-c', '30000', '-w', '1']);
  const machine = { fdSoft: 20_000, fdHard: 20_000, portLow: 32768, portHigh: 60999 };
  const p = preflight(a, machine);
  assert.equal(p.errors.length, 1);
  assert.equal(p.limits.ok, false);
  assert.equal(p.limits.problems.length, 3);
});

test('added options: --processes, -w 0, hold publishing for connect/idle/storm, storm --no-recover', async () => {
  const c = await parseArgs(['connect', '--processes', '3', '-w', '0', '--channels', '4', '--publish-rate', '200', '--size', '256', '--hold', '2s']);
  assert.ok(c.scenario === 'connect');
  if (c.scenario !== 'connect') return;
  assert.equal(c.options.processes, 3);
  assert.equal(c.options.workers, 0);
  assert.equal(c.options.channels, 4);
  assert.equal(c.options.holdPublishRate, 200);
  assert.equal(c.options.size, 256);
  const d = await parseArgs(['idle']);
  assert.ok(d.scenario === 'idle' && d.options.processes === 1 && d.options.channels === 1 && d.options.holdPublishRate === 0);
  const s = await parseArgs(['storm', '--wait-drop']);
  assert.ok(s.scenario === 'storm' && s.options.recover);
  const n = await parseArgs(['storm', '--wait-drop', '--no-recover']);
  assert.ok(n.scenario === 'storm' && !n.options.recover);
  await assert.rejects(parseArgs(['connect', '--channels', '0']));
  // Publishing during the hold goes through the API, which must be loopback too.
  const p = preflight(await parseArgs(['idle', '--publish-rate', '10', '--api', 'http://example.com/api']));
  assert.equal(p.errors.length, 1);
});
