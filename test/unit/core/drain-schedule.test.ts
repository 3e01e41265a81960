// The drain's schedule and window (src/core/shutdown.ts), admission's pure parts (src/transports/admission.ts)
// and the /proc parsers of the fd watch (src/metrics/fds.ts). No timing.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { drainSchedule, effectiveDrainWindow } from '../../../src/core/shutdown.js';
import { Admission, admissionLimits, jitteredRetryAfter } from '../../../src/transports/admission.js';
import { FdWatch, parseSockstatTcp, readFdLimits } from '../../../src/metrics/fds.js';
import { RateBucket } from '../../../src/transports/rate-bucket.js';

describe('drain schedule', () => {
  it('one close moment per equal slot of the window, jittered inside it', () => {
    const n = 1000;
    const w = 4000;
    const at = drainSchedule(n, w);
    for (let i = 0; i < n; i++) {
      assert.ok((at[i] as number) >= (w * i) / n && (at[i] as number) < (w * (i + 1)) / n);
    }
    // Jittered: not just the slot starts.
    assert.ok(at.some((t, i) => t !== (w * i) / n));
  });

  it('window 0 closes everyone at once', () => {
    assert.deepEqual(drainSchedule(3, 0), [0, 0, 0]);
  });

  it('the window fits shutdown.timeout', () => {
    assert.equal(effectiveDrainWindow(10_000, 30_000, 0), 10_000);
    assert.equal(effectiveDrainWindow(10_000, 30_000, 5_000), 10_000);
    assert.equal(effectiveDrainWindow(10_000, 12_000, 1_000), 8_000);
    assert.equal(effectiveDrainWindow(10_000, 4_000, 0), 3_000);
    assert.equal(effectiveDrainWindow(10_000, 1_000, 2_000), 0);
  });
});

describe('admission', () => {
  const src = (open = 0, inFlight = 0, shuttingDown = false) => ({
    open: () => open,
    inFlight: () => inFlight,
    shuttingDown: () => shuttingDown,
  });
  const limits = { connectionLimit: 0, rateLimit: 0, ipLimit: 0, maxInFlight: 0, waitBudgetMs: 0 };

  it('rate: a full bucket of N lets N in, then refuses', () => {
    const a = new Admission({ ...limits, rateLimit: 5 }, src());
    try {
      const got = Array.from({ length: 8 }, () => a.check('1.2.3.4'));
      assert.deepEqual(got.slice(0, 5), [null, null, null, null, null]);
      assert.equal(got[7], 'rate');
    } finally {
      a.close();
    }
  });

  it('rate with worker processes: each takes its share of N, and a share under 1/s still holds one token', () => {
    const client = { connection_limit: 0, connection_rate_limit: 200, ip_connection_limit: 0 };
    assert.equal(admissionLimits(client, undefined).rateLimit, 200);
    assert.equal(admissionLimits(client, undefined, 2).rateLimit, 100);
    const share = admissionLimits({ ...client, connection_rate_limit: 1 }, undefined, 2);
    const a = new Admission(share, src());
    const b = new Admission(admissionLimits(client, undefined, 2), src());
    try {
      assert.deepEqual([a.check(undefined), a.check(undefined)], [null, 'rate']);
      const got = Array.from({ length: 150 }, () => b.check(undefined));
      // 100 from the full bucket, plus what it refilled at 100/s meanwhile (nothing unless the loop took > 10 ms).
      const ok = got.filter((r) => r === null).length;
      assert.ok(ok >= 100 && ok < 150, `admitted ${ok}`);
    } finally {
      a.close();
      b.close();
    }
  });

  it('rate: admissions that share one bucket (WebSocket and the HTTP endpoints) let in N together', () => {
    const bucket = new RateBucket(5);
    const ws = new Admission({ ...limits, rateLimit: 5 }, src(), undefined, undefined, bucket);
    const http = new Admission({ ...limits, rateLimit: 5 }, src(), undefined, undefined, bucket);
    try {
      const got = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? ws : http).check(undefined));
      // 5 from the shared bucket (plus what it refilled meanwhile: nothing unless the loop took > 200 ms);
      // a bucket each would have let in all 10.
      const ok = got.filter((r) => r === null).length;
      assert.ok(ok >= 5 && ok < 10, `admitted ${ok}`);
    } finally {
      ws.close();
      http.close();
    }
  });

  it('order of reasons: shutdown, connection_limit, ip_limit, handshakes', () => {
    const a = new Admission({ ...limits, connectionLimit: 10, maxInFlight: 2, ipLimit: 1 }, src(10, 5, true));
    const b = new Admission({ ...limits, connectionLimit: 10, maxInFlight: 2, ipLimit: 1 }, src(10, 5));
    const c = new Admission({ ...limits, connectionLimit: 11, maxInFlight: 2, ipLimit: 1 }, src(10, 5));
    try {
      assert.equal(a.check('x'), 'shutdown');
      assert.equal(b.check('x'), 'connection_limit');
      const sock = new PassThrough();
      c.admitted(sock, 'x');
      assert.equal(c.check('x'), 'ip_limit');
      assert.equal(c.check('y'), 'handshakes');
      sock.emit('close');
      assert.equal(c.check('x'), 'handshakes');
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });

  it('shut(): the node-wide reason without the per-address limit; the rate bucket is looked at, not drawn from', () => {
    const a = new Admission({ ...limits, rateLimit: 2, ipLimit: 1 }, src());
    const b = new Admission({ ...limits, connectionLimit: 10 }, src(10));
    try {
      a.admitted(new PassThrough(), 'x');
      assert.equal(a.check('x'), 'ip_limit');
      assert.equal(a.shut(), null);
      for (let i = 0; i < 5; i++) assert.equal(a.shut(), null); // no token taken
      assert.equal(a.check('y'), null);
      assert.equal(a.check('y'), null);
      assert.equal(a.shut(), 'rate');
      assert.equal(b.shut(), 'connection_limit');
    } finally {
      a.close();
      b.close();
    }
  });

  it('the guard refuses a long handshake queue at the assumed rate (a prior of 1,000/s, and the default)', () => {
    const a = new Admission({ ...limits, waitBudgetMs: 2000 }, src(0, 2500), undefined, 1000);
    const b = new Admission({ ...limits, waitBudgetMs: 2000 }, src(0, 1500), undefined, 1000);
    // The default prior (3,000/s): 2,500 in flight is under the 2 s budget, 7,000 over it.
    const c = new Admission({ ...limits, waitBudgetMs: 2000 }, src(0, 2500));
    const d = new Admission({ ...limits, waitBudgetMs: 2000 }, src(0, 7000));
    try {
      assert.equal(a.check('x'), 'overload');
      assert.equal(b.check('x'), null);
      assert.equal(c.check('x'), null);
      assert.equal(d.check('x'), 'overload');
    } finally {
      for (const x of [a, b, c, d]) x.close();
    }
  });

  it('the fd watch refuses within the reserve of the soft limit', () => {
    const w = new FdWatch(10, 0, () => 95, () => ({ soft: 100, hard: 200 }));
    const a = new Admission(limits, src(), w);
    try {
      assert.equal(a.check('x'), 'fds');
      w.setReserve(4);
      assert.equal(a.check('x'), null);
    } finally {
      a.close();
      w.close();
    }
  });

  it('the fd watch counts again near the threshold instead of trusting the last sample', () => {
    let open = 50;
    const w = new FdWatch(10, 0, () => open, () => ({ soft: 100, hard: 200 }));
    const a = new Admission(limits, src(), w);
    try {
      assert.equal(a.check('x'), null);
      open = 95; // connections arrived since the sample (sampleMs 0: no other sample is taken)
      assert.equal(a.check('x'), 'fds');
      open = 60;
      assert.equal(a.check('x'), null);
    } finally {
      a.close();
      w.close();
    }
  });

  it('Retry-After is a whole number of seconds in [1, 5]', () => {
    assert.equal(jitteredRetryAfter(() => 0), 1);
    assert.equal(jitteredRetryAfter(() => 0.9999), 5);
  });
});

describe('/proc parsers', () => {
  it('reads Max open files and the TCP line of sockstat', () => {
    const limits = 'Max cpu time              unlimited            unlimited            seconds\nMax open files            1024                 524288               files\n';
    assert.deepEqual(readFdLimits(limits), { soft: 1024, hard: 524288 });
    assert.deepEqual(readFdLimits('Max open files            unlimited            unlimited            files'), { soft: Infinity, hard: Infinity });
    assert.deepEqual(parseSockstatTcp('sockets: used 290\nTCP: inuse 5 orphan 0 tw 2 alloc 9 mem 1\nUDP: inuse 1\n'), {
      inuse: 5,
      orphan: 0,
      tw: 2,
      alloc: 9,
      mem: 1,
    });
  });
});
