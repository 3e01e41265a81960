// The main port's socket under `none` scheduling is the primary's (src/cluster/main-socket.ts, docs/workers.md):
// each worker listens on node.listen_copies descriptors of it, the primary holds one it never polls, and the
// port keeps its queue while no worker accepts. Scenario: worker B is stopped (SIGSTOP), worker A takes every
// connection until the share cap pauses it (its copies closed), requests then wait in the kernel's queue, and
// B is killed while A is paused. With Node's cluster owning the socket, B's death closed it (the last copy) and
// the waiting requests were reset; now A listens again and answers every one of them.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { baseConfig } from '../compat/base-config.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { descriptors, listenInode, workerPids } from '../harness/listen-sockets.js';
import { waitFor } from '../harness/wait.js';

const COPIES = 3;

interface Probe {
  socket: Socket;
  reply: string;
  error: string | undefined;
}

/** A GET /health sent as soon as the kernel completes the TCP handshake (the request waits in the queue). */
function probe(port: number): Probe {
  const p: Probe = { socket: connect(port, '127.0.0.1'), reply: '', error: undefined };
  p.socket.on('connect', () => p.socket.write('GET /health HTTP/1.1\r\nHost: gyre\r\nConnection: close\r\n\r\n'));
  p.socket.setEncoding('utf8').on('data', (s: string) => (p.reply += s));
  p.socket.on('error', (e: NodeJS.ErrnoException) => (p.error = e.code ?? e.message));
  return p;
}

describe('the main socket is the primary\'s, with several copies per worker', { timeout: 120_000 }, () => {
  let g: GyreProcess;
  const held: Socket[] = [];
  const stopped: number[] = [];

  before(async () => {
    g = await startGyre(mergeConfig(baseConfig(), { log: { level: 'info' }, node: { listen_copies: COPIES } }), { args: ['--workers', '2'] });
    await waitFor(() => g.stdout().includes('2 workers serving'), { what: 'both workers serving', timeoutMs: 60_000 });
  });

  after(async () => {
    for (const s of held) s.destroy();
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await g.stop('SIGKILL');
  });

  it('opens the port to both workers together at start-up: neither serves before both are ready to listen', () => {
    const lines = g.stdout().split('\n');
    const ready = lines.flatMap((l, i) => (l.includes('"msg":"worker ready to listen; its copies wait until every worker is"') ? [i] : []));
    const serving = lines.flatMap((l, i) => (l.includes('"msg":"worker serving"') ? [i] : []));
    assert.equal(ready.length, 2, 'both workers asked while the gate was shut');
    assert.equal(serving.length, 2);
    assert.ok(Math.max(...ready) < Math.min(...serving), 'the first worker served only after the second was ready');
  });

  it('each worker listens on node.listen_copies descriptors; the primary holds one', () => {
    const inode = listenInode(g.port);
    assert.ok(inode !== undefined, 'a socket listens on the port');
    const [a, b] = workerPids(g);
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(descriptors(g.pid, inode), 1);
    assert.equal(descriptors(a, inode), COPIES);
    assert.equal(descriptors(b, inode), COPIES);
  });

  it('keeps the queue while the only accepting worker dies and the other is paused', async () => {
    const inode = listenInode(g.port);
    const [a, b] = workerPids(g);
    assert.ok(inode !== undefined && a !== undefined && b !== undefined);
    process.kill(b, 'SIGSTOP');
    stopped.push(b);
    // A takes every connection; past the share cap's floor (256) and its share it closes its copies.
    for (let i = 0; i < 320; i++) held.push(connect(g.port, '127.0.0.1').on('error', () => undefined));
    await waitFor(() => descriptors(a, inode) === 0, { what: 'worker A paused (its copies closed)', timeoutMs: 20_000 });
    const probes = Array.from({ length: 10 }, () => probe(g.port));
    await waitFor(() => probes.every((p) => p.socket.readyState === 'open' || p.error !== undefined), { what: 'probes connected' });
    assert.deepEqual(probes.map((p) => p.error ?? p.reply), probes.map(() => ''), 'the probes wait in the queue');
    process.kill(b, 'SIGKILL');
    await waitFor(() => probes.every((p) => p.error !== undefined || p.reply.includes('\r\n\r\n')), { what: 'every probe answered or failed', timeoutMs: 20_000 });
    assert.deepEqual(probes.map((p) => p.error ?? p.reply.slice(0, 15)), probes.map(() => 'HTTP/1.1 200 OK'));
    for (const p of probes) p.socket.destroy();
  });
});
