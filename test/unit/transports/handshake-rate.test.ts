import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission, type AdmissionLimits, type AdmissionSource } from '../../../src/transports/admission.js';
import {
  DEFAULT_PRIOR_RATE,
  estimatedWaitMs,
  HandshakeRate,
  MAX_RATE,
  MIN_QUEUE_FOR_GUARD,
  MIN_RATE,
  rateFromWarmup,
} from '../../../src/transports/handshake-rate.js';

describe('handshake rate estimate', () => {
  it('starts at the prior, clamped to its bounds', () => {
    assert.equal(new HandshakeRate().perSecond, DEFAULT_PRIOR_RATE);
    assert.equal(new HandshakeRate(7000).perSecond, 7000);
    assert.equal(new HandshakeRate(1).perSecond, MIN_RATE);
    assert.equal(new HandshakeRate(1e9).perSecond, MAX_RATE);
    assert.equal(new HandshakeRate(Number.NaN).perSecond, MIN_RATE);
  });

  it('the first window with enough handshakes replaces the prior, higher or lower; later ones are smoothed', () => {
    const up = new HandshakeRate(1600);
    up.observe({ completed: 20, activeMs: 2, refused: 0 });
    assert.ok(up.perSecond > 1600 && up.perSecond < 10_000, 'a small window does not replace it');
    const r = new HandshakeRate(1600);
    r.observe({ completed: 500, activeMs: 175, refused: 0 });
    assert.ok(Math.abs(r.perSecond - 2857) < 1, `got ${r.perSecond}`);
    r.observe({ completed: 500, activeMs: 100, refused: 0 });
    assert.ok(r.perSecond > 2857 && r.perSecond < 5000, `smoothed, got ${r.perSecond}`);
    const down = new HandshakeRate(3000);
    down.observe({ completed: 207, activeMs: 266, refused: 0 });
    assert.ok(Math.abs(down.perSecond - 778) < 1, `a slow first window brings it down at once, got ${down.perSecond}`);
  });

  it('measures per second of busy time, not of wall time: a half-idle window is not a slow one', () => {
    const r = new HandshakeRate(1000);
    // 1,000 handshakes in 125 ms of work: 8,000 a second, whatever the window length.
    for (let i = 0; i < 30; i++) assert.equal(r.observe({ completed: 1000, activeMs: 125, refused: 0 }), true);
    assert.ok(Math.abs(r.perSecond - 8000) < 10, `converges to the measured rate, got ${r.perSecond}`);
  });

  it('follows a node that became slower (a loaded machine stretches the busy time)', () => {
    const r = new HandshakeRate(8000);
    for (let i = 0; i < 30; i++) r.observe({ completed: 400, activeMs: 250, refused: 0 });
    assert.ok(Math.abs(r.perSecond - 1600) < 10, `got ${r.perSecond}`);
  });

  it('ignores windows with too few handshakes; those where the guard refused much can only raise it', () => {
    const r = new HandshakeRate(3000);
    assert.equal(r.observe({ completed: 5, activeMs: 200, refused: 0 }), false);
    assert.equal(r.observe({ completed: 100, activeMs: 250, refused: 300 }), false, 'refusals took that busy time');
    assert.equal(r.perSecond, 3000);
    assert.equal(r.observe({ completed: 100, activeMs: 250, refused: 10 }), true, 'a few refusals do not spoil a window');
    assert.ok(r.perSecond < 3000);
    const low = new HandshakeRate(900);
    // 700 completed in 250 ms while refusing 1,000: at least 2,800 a second, whatever the refusals cost.
    assert.equal(low.observe({ completed: 700, activeMs: 250, refused: 1000 }), true);
    assert.equal(low.perSecond, 2800, 'a floor above the estimate is taken at once');
    assert.equal(low.observe({ completed: 40, activeMs: 5, refused: 1000 }), false, 'not from a few handshakes');
  });

  it('a small window moves the estimate less than a large one', () => {
    const small = new HandshakeRate(3000);
    const large = new HandshakeRate(3000);
    small.observe({ completed: 20, activeMs: 1, refused: 0 });
    large.observe({ completed: 2000, activeMs: 100, refused: 0 });
    assert.ok(small.perSecond - 3000 < large.perSecond - 3000);
    assert.ok(small.perSecond > 3000);
  });

  it('never falls below the floor nor divides by a zero busy time', () => {
    const r = new HandshakeRate(200);
    for (let i = 0; i < 500; i++) r.observe({ completed: 16, activeMs: 1e6, refused: 0 });
    assert.ok(r.perSecond >= MIN_RATE && r.perSecond < MIN_RATE + 1, `got ${r.perSecond}`);
    r.observe({ completed: 1000, activeMs: 0, refused: 0 });
    assert.ok(Number.isFinite(r.perSecond) && r.perSecond <= MAX_RATE);
  });

  it('a prior from the warm-up: a floor, so the default unless above it; only when it did enough handshakes', () => {
    assert.equal(rateFromWarmup(500, 250), DEFAULT_PRIOR_RATE);
    assert.equal(rateFromWarmup(2000, 250), 8000);
    assert.equal(rateFromWarmup(50, 10), undefined);
    assert.equal(rateFromWarmup(500, 0), undefined);
  });
});

describe('estimated wait', () => {
  const base = { lagMs: 0, inFlight: 0, acceptQueue: 0, acceptors: 1, rate: 4000 };

  it('is the lag plus the queue ahead at the rate; a short queue counts as none', () => {
    assert.equal(estimatedWaitMs({ ...base, lagMs: 30, inFlight: MIN_QUEUE_FOR_GUARD - 1 }), 30);
    assert.equal(estimatedWaitMs({ ...base, lagMs: 30, inFlight: 400, acceptQueue: 3600 }), 1030);
  });

  it('a shared accept queue counts for its part: each of N workers drains 1/N of it', () => {
    assert.equal(estimatedWaitMs({ ...base, acceptQueue: 8000, acceptors: 1 }), 2000);
    assert.equal(estimatedWaitMs({ ...base, acceptQueue: 8000, acceptors: 2 }), 1000);
    assert.equal(estimatedWaitMs({ ...base, inFlight: 100, acceptQueue: 8000, acceptors: 4 }), 525);
    assert.equal(estimatedWaitMs({ ...base, acceptQueue: 8000, acceptors: 0 }), 2000, 'never fewer than 1');
  });

  it('parked connections are this process\'s own: counted whole, and what was accepted since the read leaves the share', () => {
    assert.equal(estimatedWaitMs({ ...base, parked: 4000, acceptors: 2 }), 1000);
    assert.equal(estimatedWaitMs({ ...base, parked: 2000, acceptQueue: 8000, acceptors: 2 }), 1500);
    // 2,000 of this worker's 4,000 were accepted (and parked) since the queue was read: counted once.
    assert.equal(estimatedWaitMs({ ...base, parked: 2000, acceptQueue: 8000, acceptors: 2, acceptedSinceRead: 2000 }), 1000);
    assert.equal(estimatedWaitMs({ ...base, parked: 6000, acceptQueue: 8000, acceptors: 2, acceptedSinceRead: 6000 }), 1500, 'the share never below 0');
  });
});

describe('the adaptive guard of the admission', () => {
  const limits: AdmissionLimits = { connectionLimit: 0, rateLimit: 0, ipLimit: 0, maxInFlight: 0, waitBudgetMs: 2000 };
  function source(acceptQueue: number, acceptors: number): AdmissionSource {
    return { open: () => 0, inFlight: () => 0, acceptQueue: () => acceptQueue, acceptors: () => acceptors, shuttingDown: () => false };
  }
  function decide(acceptQueue: number, acceptors: number, prior?: number): ReturnType<Admission['check']> {
    const a = new Admission(limits, source(acceptQueue, acceptors), undefined, prior);
    try {
      return a.check('127.0.0.1');
    } finally {
      a.close();
    }
  }

  it('refuses only past the budget at the prior rate (the warm-up measure, else the default)', () => {
    assert.equal(decide(4000, 1), null, `4,000 queued at ${DEFAULT_PRIOR_RATE}/s is ~1.3 s`);
    assert.equal(decide(8000, 1), 'overload');
    assert.equal(decide(8000, 1, 6000), null, 'a faster measured node admits the same queue');
    assert.equal(decide(4000, 1, 1000), 'overload');
  });

  it('with workers sharing the queue, each refuses only for its own part of it', () => {
    assert.equal(decide(8000, 2), null);
    assert.equal(decide(16_000, 2), 'overload');
  });

  it('counts a worker\'s parked connections, whole, as handshakes ahead', () => {
    const decideParked = (parked: number, acceptors: number): ReturnType<Admission['check']> => {
      const a = new Admission(limits, { ...source(0, acceptors), parked: () => parked }, undefined, DEFAULT_PRIOR_RATE);
      try {
        return a.check('127.0.0.1');
      } finally {
        a.close();
      }
    };
    assert.equal(decideParked(4000, 2), null, `4,000 parked at ${DEFAULT_PRIOR_RATE}/s is ~1.3 s`);
    assert.equal(decideParked(7000, 2), 'overload', 'not divided among the workers: ~2.3 s');
    assert.equal(decideParked(7000, 1), 'overload');
  });

  it('a connection that moved from the accept queue to the parked ones since the read counts once', () => {
    let queued = 5000;
    let parked = 0;
    let accepted = 0;
    const src: AdmissionSource = { ...source(0, 1), acceptQueue: () => queued, parked: () => parked, accepted: () => accepted };
    const a = new Admission(limits, src, undefined, DEFAULT_PRIOR_RATE);
    try {
      assert.equal(a.check('127.0.0.1'), null, '5,000 queued: ~1.7 s');
      // The process accepted (and parked) all 5,000; the queue's last reading may still say 5,000.
      queued = 0;
      parked = 5000;
      accepted = 5000;
      assert.equal(a.check('127.0.0.1'), null, 'still ~1.7 s, not 3.3 s');
      parked = 7000;
      accepted = 7000;
      assert.equal(a.check('127.0.0.1'), 'overload');
    } finally {
      a.close();
    }
  });

  it('the guard off never refuses for the queue', () => {
    const a = new Admission({ ...limits, waitBudgetMs: 0 }, source(1e6, 1), undefined, MIN_RATE);
    try {
      assert.equal(a.check(undefined), null);
      assert.equal(a.shut(), null);
    } finally {
      a.close();
    }
  });
});
