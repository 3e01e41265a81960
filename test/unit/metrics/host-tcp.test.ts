import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseListenCounters, readListenCounters, readSomaxconn } from '../../../src/metrics/host-tcp.js';
import { registry } from '../../../src/metrics/registry.js';

const SAMPLE = [
  'TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPAbortOnData',
  'TcpExt: 12 3 23624 23630 7',
  'IpExt: InNoRoutes InTruncatedPkts',
  'IpExt: 0 0',
  '',
].join('\n');

const dir = mkdtempSync(join(tmpdir(), 'gyre-host-tcp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('host TCP listen counters', () => {
  it('reads ListenOverflows and ListenDrops from the TcpExt group', () => {
    assert.deepEqual(parseListenCounters(SAMPLE), { overflows: 23624, drops: 23630 });
  });

  it('missing group, missing columns or garbage ⇒ null', () => {
    assert.equal(parseListenCounters('IpExt: A B\nIpExt: 1 2\n'), null);
    assert.equal(parseListenCounters('TcpExt: SyncookiesSent\nTcpExt: 1\n'), null);
    assert.equal(parseListenCounters('TcpExt: ListenOverflows ListenDrops\nTcpExt: x y\n'), null);
    assert.equal(parseListenCounters(''), null);
  });

  it('unreadable files ⇒ null; somaxconn parsed as a positive integer', () => {
    assert.equal(readListenCounters(join(dir, 'nope')), null);
    assert.equal(readSomaxconn(join(dir, 'nope')), null);
    const f = join(dir, 'somaxconn');
    writeFileSync(f, '4096\n');
    assert.equal(readSomaxconn(f), 4096);
    writeFileSync(f, 'x\n');
    assert.equal(readSomaxconn(f), null);
  });

  it('the scrape carries the host counters when /proc/net/netstat is readable', async () => {
    const text = await registry.metrics();
    const live = readListenCounters();
    if (live === null) {
      assert.doesNotMatch(text, /^gyre_host_tcp_listen_overflows \d/m);
    } else {
      assert.match(text, /^gyre_host_tcp_listen_overflows \d+/m);
      assert.match(text, /^gyre_host_tcp_listen_drops \d+/m);
    }
  });
});
