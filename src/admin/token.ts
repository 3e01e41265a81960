// Admin session tokens: `v1.<expiry in unix ms, base36>.<HMAC-SHA256(secret, "gyre-admin.v1.<expiry>"), base64url>`.
// Stateless like Centrifugo's securecookie tokens (any node with the same admin.secret accepts them), but they
// carry their own expiry, which is checked on every request. Verification compares the MAC in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'v1';

function mac(secret: string, expiry: string): Buffer {
  return createHmac('sha256', secret).update(`gyre-admin.${PREFIX}.${expiry}`).digest();
}

/** A token valid until `now + ttlMs`. */
export function issueAdminToken(secret: string, ttlMs: number, now: number = Date.now()): string {
  const expiry = Math.floor(now + ttlMs).toString(36);
  return `${PREFIX}.${expiry}.${mac(secret, expiry).toString('base64url')}`;
}

export type TokenCheck = 'ok' | 'malformed' | 'bad_signature' | 'expired';

export function checkAdminToken(secret: string, token: string, now: number = Date.now()): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return 'malformed';
  const expiry = parts[1] ?? '';
  if (!/^[0-9a-z]{1,12}$/.test(expiry)) return 'malformed';
  const given = Buffer.from(parts[2] ?? '', 'base64url');
  const want = mac(secret, expiry);
  if (given.byteLength !== want.byteLength || !timingSafeEqual(given, want)) return 'bad_signature';
  return parseInt(expiry, 36) > now ? 'ok' : 'expired';
}

/** Constant-time string comparison (the time depends on the lengths only). */
export function safeEqualString(a: string, b: string): boolean {
  const x = createHmac('sha256', 'gyre-admin-compare').update(a).digest();
  const y = createHmac('sha256', 'gyre-admin-compare').update(b).digest();
  return timingSafeEqual(x, y);
}
