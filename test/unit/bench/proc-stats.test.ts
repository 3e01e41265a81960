import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffSamples, parseStatCpuSeconds, parseVmRssBytes, sampleProcess } from '../../../bench/lib/proc-stats.js';

test('parseVmRssBytes reads kB and converts to bytes', () => {
  assert.equal(parseVmRssBytes('Name:\tnode\nVmRSS:\t  123456 kB\nThreads: 7\n'), 123456 * 1024);
  assert.equal(parseVmRssBytes('Name:\tnode\n'), null);
});

test('parseStatCpuSeconds counts fields after the last ")" (names with spaces and parens)', () => {
  // fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
  const stat = '42 (my (odd) proc) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 5 0 0';
  assert.equal(parseStatCpuSeconds(stat), 3);
  assert.equal(parseStatCpuSeconds(stat, 1000), 0.3);
  assert.equal(parseStatCpuSeconds('garbage'), null);
});

test('sampleProcess reads this process; a missing pid gives null', () => {
  const s = sampleProcess(process.pid);
  assert.ok(s !== null);
  assert.ok(s.rssBytes > 0);
  assert.ok(s.cpuSeconds >= 0);
  assert.equal(sampleProcess(2 ** 22 + 1), null);
});

test('diffSamples', () => {
  const d = diffSamples({ atMs: 1000, rssBytes: 100, cpuSeconds: 1 }, { atMs: 3000, rssBytes: 400, cpuSeconds: 1.5 });
  assert.deepEqual(d, { wallSeconds: 2, cpuSeconds: 0.5, rssDeltaBytes: 300, rssAfterBytes: 400 });
});
