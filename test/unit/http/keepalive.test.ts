// Accepted connections carry TCP keep-alive with a 15 s idle time, as Go's listener (and so Centrifugo) sets it.
// Read back from the kernel with `ss -o`: a socket with keep-alive shows `timer:(keepalive,<left>,...)`. Before
// the fix the idle time asked was 0, which Linux refuses, and the timer showed the kernel's ~120 min default.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { closeFront } from '../../../src/http/server.js';
import { HttpFront, TCP_KEEPALIVE_IDLE_MS } from '../../../src/http/front.js';
import { waitFor, withTimeout } from '../../harness/wait.js';

function ssAvailable(): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Seconds left on the keep-alive timer of the server side of the connection from local port `clientPort`. */
function keepaliveLeft(serverPort: number, clientPort: number): number | undefined {
  const out = execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${serverPort} and dport = :${clientPort} )`], { encoding: 'utf8' });
  const m = /timer:\(keepalive,(?:(\d+)min)?(?:(\d+(?:\.\d+)?)sec)?(?:(\d+)ms)?/.exec(out);
  if (m === null) return undefined;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 1000;
}

describe('TCP keep-alive of accepted connections', { skip: ssAvailable() ? false : 'ss (iproute2) is not installed' }, () => {
  it('is on with a 15 s idle time', async () => {
    const http = createServer((_req, res) => res.end('ok'));
    const front = new HttpFront({ http });
    await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', r));
    const port = (front.server.address() as AddressInfo).port;
    let sock: Socket | undefined;
    try {
      sock = connect(port, '127.0.0.1');
      await new Promise<void>((r, j) => sock!.once('connect', r).once('error', j));
      // The options are set once the first chunk arrived (a kept connection).
      sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise<void>((r) => sock!.once('data', () => r()));
      const clientPort = sock.localPort!;
      let left: number | undefined;
      await waitFor(() => (left = keepaliveLeft(port, clientPort)) !== undefined, { what: 'a keep-alive timer on the server socket' });
      assert.ok(left! > 0 && left! <= TCP_KEEPALIVE_IDLE_MS / 1000, `keep-alive fires within 15 s, not the kernel's default (left ${String(left)} s)`);
    } finally {
      sock?.destroy();
      await withTimeout(closeFront(front), 5000, 'front close');
    }
  });
});
