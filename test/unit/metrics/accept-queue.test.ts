// The kernel accept-queue reader (src/metrics/accept-queue.ts): the /proc/net/tcp parser, and on Linux the real
// queue of a listening port whose owner does not accept (a child process that blocks its event loop).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { parseAcceptQueue, readAcceptQueue } from '../../../src/metrics/accept-queue.js';

const HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

describe('accept queue', () => {
  it('sums rx_queue of LISTEN lines on the port and stops at the first other state', () => {
    const text =
      HEAD +
      '   0: 0100007F:1F40 00000000:0000 0A 00001000:00000007 00:00000000 00000000  1000 0 1 1\n' +
      '   1: 00000000:1F41 00000000:0000 0A 00001000:00000005 00:00000000 00000000  1000 0 2 1\n' +
      '   2: 0100007F:1F40 0100007F:D6CA 01 00000000:00000009 00:00000000 00000000  1000 0 3 1\n' +
      '   3: 0100007F:1F40 00000000:0000 0A 00001000:00000100 00:00000000 00000000  1000 0 4 1\n';
    assert.deepEqual(parseAcceptQueue(text, 0x1f40), { queued: 7, complete: true });
    assert.deepEqual(parseAcceptQueue(text, 0x1f41), { queued: 5, complete: true });
    // A cut line at the end is not parsed; the scan is not complete yet.
    assert.deepEqual(parseAcceptQueue(`${HEAD}   0: 0100007F:1F40 00000000:0000 0A 00001000:000`, 0x1f40), { queued: 0, complete: false });
  });

  it('sees connections queued on a port whose process does not accept', { skip: readAcceptQueue(1) === undefined ? 'no /proc/net/tcp' : false }, async () => {
    const child = spawn(
      process.execPath,
      ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);const e=Date.now()+4000;while(Date.now()<e){}process.exit(0)})"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const sockets: Socket[] = [];
    try {
      assert.equal(readAcceptQueue(port), 0);
      await Promise.all(
        Array.from({ length: 40 }, () => new Promise<void>((resolve) => sockets.push(connect(port, '127.0.0.1', () => resolve())))),
      );
      assert.equal(readAcceptQueue(port), 40);
      // Only the listener's family is read: the IPv4 table has the queue, the IPv6 one does not.
      assert.equal(readAcceptQueue(port, 'IPv4'), 40);
      assert.equal(readAcceptQueue(port, 'IPv6') ?? 0, 0);
    } finally {
      for (const s of sockets) s.destroy();
      child.kill('SIGKILL');
    }
  });
});
