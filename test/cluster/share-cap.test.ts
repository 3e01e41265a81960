// The share cap of `none` scheduling (src/cluster/share-cap.ts, docs/workers.md): the pause / resume rule, and a
// ShareCap on a real listening server that stops accepting when over its share and listens again under it.
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ShareCap, shouldPause, SHARE_FLOOR } from '../../src/cluster/share-cap.js';
import { waitFor } from '../harness/wait.js';

describe('share cap rule', () => {
  const base = { workers: 2, limit: Infinity, paused: false };
  it('pauses only well over the mean and over the floor', () => {
    assert.equal(shouldPause({ ...base, own: 12_000, others: 8_000 }), true); // 1.2 × mean
    assert.equal(shouldPause({ ...base, own: 11_000, others: 9_000 }), false); // 1.1 × mean
    assert.equal(shouldPause({ ...base, own: SHARE_FLOOR, others: 0 }), false); // under the floor
    assert.equal(shouldPause({ ...base, own: SHARE_FLOOR + 1, others: 0 }), true);
  });
  it('resumes only back near the mean (hysteresis)', () => {
    const paused = { ...base, paused: true };
    assert.equal(shouldPause({ ...paused, own: 11_000, others: 9_000 }), true); // 1.1 × mean: stays paused
    assert.equal(shouldPause({ ...paused, own: 10_400, others: 9_600 }), false); // 1.04 × mean
  });
  it('pauses at its own limit, but never at or under the mean (someone always accepts)', () => {
    assert.equal(shouldPause({ ...base, own: 19_500, others: 18_500, limit: 19_500 }), true);
    assert.equal(shouldPause({ ...base, own: 19_500, others: 19_500, limit: 19_500 }), false);
    assert.equal(shouldPause({ ...base, paused: true, own: 19_000, others: 18_000, limit: 19_500 }), true); // 97 %
    assert.equal(shouldPause({ ...base, paused: true, own: 18_900, others: 18_000, limit: 19_500 }), false);
  });
});

describe('ShareCap on a listening server', () => {
  it('stops accepting over its share and listens again when the others catch up', async () => {
    const server = createServer();
    const held: Socket[] = [];
    server.on('connection', (s) => held.push(s));
    await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1' }, r));
    const port = (server.address() as AddressInfo).port;
    const reports: number[] = [];
    const asks: string[] = [];
    let grant = false;
    const cap: ShareCap = new ShareCap({
      server,
      workers: 2,
      limit: Infinity,
      floor: 0,
      relisten: () => new Promise<void>((r) => server.listen({ port, host: '127.0.0.1' }, r)),
      report: (n) => reports.push(n),
      askPause: () => {
        asks.push('pause?');
        queueMicrotask(() => cap.answerPause(grant));
      },
      resumed: () => asks.push('listening'),
    });
    const clients: Socket[] = [];
    try {
      cap.setOthers(4);
      // 5 + 4 open: 5 ≤ 1.15 × 4.5, accepting. The 6th makes 6 > 1.15 × 5: it asks to pause; the primary
      // says no first (no other worker accepting), so it keeps listening.
      for (let i = 0; i < 6; i++) {
        assert.equal(cap.isPaused, false);
        const c = connect(port, '127.0.0.1');
        clients.push(c);
        await waitFor(() => held.length === i + 1);
      }
      await waitFor(() => asks.length === 1);
      assert.equal(server.listening, true);
      assert.equal(cap.isPaused, false);
      // Granted the next time it asks (after ASK_AGAIN_MS, on the next count it gets).
      grant = true;
      await waitFor(() => {
        cap.setOthers(4);
        return cap.isPaused;
      });
      assert.deepEqual(asks, ['pause?', 'pause?']);
      // The primary says no other worker accepts any more (one exited): it listens again at once, then asks
      // to pause again (granted here) since it is still over its share.
      cap.mustListen();
      await waitFor(() => asks.length === 3 && server.listening);
      assert.equal(asks[2], 'listening');
      await waitFor(() => {
        cap.setOthers(4);
        return cap.isPaused && !server.listening;
      });
      assert.equal(asks.at(-1), 'pause?');
      assert.equal(server.listening, false);
      await waitFor(() => reports.at(-1) === 6);
      // The others now hold 8: mean 7, own 6 is under it: listens again and accepts.
      cap.setOthers(8);
      await waitFor(() => server.listening && !cap.isPaused);
      assert.equal(asks.at(-1), 'listening');
      const c = connect(port, '127.0.0.1');
      clients.push(c);
      await waitFor(() => held.length === 7);
      // Two of its clients leave: the count goes down with them.
      clients[0]?.destroy();
      clients[1]?.destroy();
      await waitFor(() => reports.at(-1) === 5);
    } finally {
      cap.stop();
      for (const c of clients) c.destroy();
      for (const s of held) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
