// The admission guard's event-loop lag, one histogram and one window timer per process (src/transports/loop-lag.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admission, admissionLimits } from '../../../src/transports/admission.js';
import { LoopLagSampler, loopLag } from '../../../src/transports/loop-lag.js';

function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* the event loop cannot run */
  }
}

describe('loop lag', () => {
  it('every watcher gets the same window; the last one to leave stops the histogram and the timer', () => {
    const s = new LoopLagSampler(60_000);
    const a: number[] = [];
    const b: number[] = [];
    const offA = s.watch((ms) => a.push(ms));
    const offB = s.watch((ms) => b.push(ms));
    assert.equal(s.watchers, 2);
    assert.equal(s.running, true);
    s.endWindow();
    s.endWindow();
    assert.equal(a.length, 2);
    assert.deepEqual(a, b);
    offA();
    offA();
    assert.equal(s.running, true);
    s.endWindow();
    assert.equal(a.length, 2);
    assert.equal(b.length, 3);
    offB();
    assert.equal(s.watchers, 0);
    assert.equal(s.running, false);
    assert.equal(s.currentMs(), 0);
    const offC = s.watch(() => undefined);
    assert.equal(s.running, true);
    offC();
    assert.equal(s.running, false);
  });

  it('a stall of the loop is in the window it happened in, and the next window starts empty', async () => {
    const s = new LoopLagSampler(60_000, 20);
    const seen: number[] = [];
    const off = s.watch((ms) => seen.push(ms));
    try {
      await sleep(30);
      block(250);
      // Let the histogram's timer run (late by the block).
      await sleep(60);
      assert.ok(s.currentMs() >= 150, `current window ${s.currentMs()} ms`);
      s.endWindow();
      assert.ok((seen[0] as number) >= 150, `window ${String(seen[0])} ms`);
      assert.ok(s.currentMs() < (seen[0] as number));
    } finally {
      off();
    }
  });

  it('admissions share the process sampler and leave it on close', () => {
    const before = loopLag.watchers;
    const limits = admissionLimits({ connection_limit: 0, connection_rate_limit: 0, ip_connection_limit: 0 }, undefined);
    const src = { open: () => 0, inFlight: () => 0, shuttingDown: () => false };
    const ws = new Admission(limits, src);
    const http = new Admission(limits, src);
    assert.equal(loopLag.watchers, before + 2);
    assert.equal(loopLag.running, true);
    ws.close();
    http.close();
    assert.equal(loopLag.watchers, before);
    assert.equal(loopLag.running, before > 0);
  });
});
