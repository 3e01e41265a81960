import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLimits, parseFdLimits, parsePortRange } from '../../../loadtest/src/limits.js';

const machine = { fdSoft: 20_000, fdHard: 20_000, portLow: 32768, portHigh: 60999 };

test('parses /proc limits and the port range', () => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            20000                20000                files     \n';
  assert.deepEqual(parseFdLimits(limits), { soft: 20000, hard: 20000 });
  assert.deepEqual(parsePortRange('32768\t60999\n'), { low: 32768, high: 60999 });
  assert.equal(parseFdLimits('nothing here'), null);
});

test('a run that fits passes', () => {
  const c = checkLimits({ clients: 10_000, workers: 2, sourceAddresses: 1, extraSockets: 0 }, machine);
  assert.equal(c.ok, true);
  assert.equal(c.socketsPerWorker, 5000);
  assert.equal(c.fdsNeeded, 10_000 + 64 + 16);
  assert.equal(c.portsAvailable, 60999 - 32768 + 1 - 500);
});

test('too many sockets per worker asks for more workers', () => {
  const c = checkLimits({ clients: 19_000, workers: 1, sourceAddresses: 1, extraSockets: 0 }, machine);
  assert.equal(c.ok, false);
  assert.ok(c.problems.some((p) => p.includes('--workers 2')), c.problems.join('\n'));
});

test('the fd budget is per process, whatever the worker count', () => {
  const c = checkLimits({ clients: 30_000, workers: 4, sourceAddresses: 2, extraSockets: 0 }, machine);
  assert.equal(c.ok, false);
  assert.equal(c.fdsNeeded, 30_000 + 64 + 32);
  assert.ok(c.problems.some((p) => p.includes('file descriptors') && p.includes('20000')), c.problems.join('\n'));
});

test('ephemeral ports per source address ask for more --source-ips', () => {
  const big = { ...machine, fdSoft: 1_000_000, fdHard: 1_000_000 };
  const c = checkLimits({ clients: 40_000, workers: 4, sourceAddresses: 1, extraSockets: 0 }, big);
  assert.equal(c.ok, false);
  assert.equal(c.portsPerAddress, 40_000);
  assert.ok(c.problems.some((p) => p.includes('--source-ips') && p.includes('at least 2')), c.problems.join('\n'));
  const ok = checkLimits({ clients: 40_000, workers: 4, sourceAddresses: 2, extraSockets: 0 }, big);
  assert.equal(ok.ok, true, ok.problems.join('\n'));
});

test('--processes splits the per-process fd budget; ports stay machine-wide', () => {
  const one = checkLimits({ clients: 30_000, workers: 2, processes: 1, sourceAddresses: 2, extraSockets: 64 }, machine);
  assert.equal(one.ok, false);
  assert.ok(one.problems.some((p) => p.includes('--processes 2')), one.problems.join('\n'));
  const two = checkLimits({ clients: 30_000, workers: 2, processes: 2, sourceAddresses: 2, extraSockets: 64 }, machine);
  assert.equal(two.ok, true, two.problems.join('\n'));
  assert.equal(two.processes, 2);
  assert.equal(two.fdsNeeded, 15_000 + 64 + 64 + 16);
  assert.equal(two.socketsPerWorker, 7500);
  const ports = checkLimits({ clients: 30_000, workers: 2, processes: 2, sourceAddresses: 1, extraSockets: 0 }, machine);
  assert.ok(ports.problems.some((p) => p.includes('--source-ips')), 'processes do not add ephemeral ports');
});
