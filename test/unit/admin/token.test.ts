import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle } from '../../../src/admin/throttle.js';
import { checkAdminToken, issueAdminToken, safeEqualString } from '../../../src/admin/token.js';

describe('admin tokens', () => {
  it('are accepted until they expire, and only with the secret that signed them', () => {
    const t0 = 1_700_000_000_000;
    const token = issueAdminToken('s3cret', 60_000, t0);
    assert.equal(checkAdminToken('s3cret', token, t0 + 59_999), 'ok');
    assert.equal(checkAdminToken('s3cret', token, t0 + 60_000), 'expired');
    assert.equal(checkAdminToken('other', token, t0), 'bad_signature');
    const [v, exp, mac] = token.split('.') as [string, string, string];
    // moving the expiry forward breaks the signature
    const later = (parseInt(exp, 36) + 3_600_000).toString(36);
    assert.equal(checkAdminToken('s3cret', `${v}.${later}.${mac}`, t0), 'bad_signature');
    for (const bad of ['', 'x', 'v1..', 'v2.abc.def', `v1.${exp}`, `v1.ZZ.${mac}`]) {
      assert.equal(checkAdminToken('s3cret', bad, t0), 'malformed', bad);
    }
  });

  it('compares passwords by value', () => {
    assert.equal(safeEqualString('pass', 'pass'), true);
    assert.equal(safeEqualString('pass', 'pasS'), false);
    assert.equal(safeEqualString('pass', 'pass '), false);
    assert.equal(safeEqualString('', ''), true);
  });
});

describe('LoginThrottle', () => {
  it('blocks an IP after maxFailures within the window, until the window ends; success clears it', () => {
    let now = 0;
    const th = new LoginThrottle({ maxFailures: 3, windowMs: 1000, maxEntries: 2 }, () => now);
    for (let i = 0; i < 3; i++) {
      assert.equal(th.retryAfterMs('a'), 0);
      th.failed('a');
    }
    assert.equal(th.retryAfterMs('a'), 1000);
    assert.equal(th.retryAfterMs('b'), 0, 'other IPs are not affected');
    now = 400;
    assert.equal(th.retryAfterMs('a'), 600);
    now = 1000;
    assert.equal(th.retryAfterMs('a'), 0);
    th.failed('a');
    th.failed('a');
    th.succeeded('a');
    th.failed('a');
    assert.equal(th.retryAfterMs('a'), 0);
  });

  it('stays bounded', () => {
    const th = new LoginThrottle({ maxFailures: 1, windowMs: 60_000, maxEntries: 100 }, () => 0);
    for (let i = 0; i < 1000; i++) th.failed(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(th.size, 100);
    assert.ok(th.retryAfterMs('10.0.3.231') > 0, 'the newest records are kept');
  });
});
