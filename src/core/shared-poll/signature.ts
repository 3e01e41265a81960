// Track signatures (docs/shared-poll.md): the application backend signs the exact key list a client may track in a
// channel as "<iat>:<expiry>:<hex HMAC-SHA256>", the HMAC taken over iat, expiry, user, channel and the SHA-256
// of the keys joined by NUL, those five fields NUL-separated. Checked with the current key, then during rotation
// with the previous one (not for signatures issued after hmac_previous_secret_key_valid_until).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SharedPollConfig } from '../../config/types.js';

/** Seconds a signature stays usable past its expiry (clock skew), as in Centrifugo. */
export const EXPIRY_GRACE_SECONDS = 5;

export type SignatureCheck = { ok: true; expiresAt: number } | { ok: false; reason: 'invalid' | 'expired' };

interface Parsed {
  iat: string;
  expiry: string;
  mac: string;
}

function parse(sig: string): Parsed | undefined {
  const a = sig.indexOf(':');
  if (a < 0) return undefined;
  const b = sig.indexOf(':', a + 1);
  if (b < 0) return undefined;
  return { iat: sig.slice(0, a), expiry: sig.slice(a + 1, b), mac: sig.slice(b + 1) };
}

/** A decimal integer as Go's ParseInt reads it (anything else counts as 0). */
function int(s: string): number {
  return /^[+-]?\d{1,18}$/.test(s) ? Number(s) : 0;
}

function macMatches(secret: string, p: Parsed, user: string, channel: string, keys: readonly string[]): boolean {
  const keysHash = createHash('sha256').update(keys.join('\x00')).digest('hex');
  const expected = createHmac('sha256', secret).update(`${p.iat}\x00${p.expiry}\x00${user}\x00${channel}\x00${keysHash}`).digest();
  if (!/^[0-9a-f]{64}$/.test(p.mac)) return false;
  return timingSafeEqual(Buffer.from(p.mac, 'hex'), expected);
}

/** Checks one batch's signature for `user` in `channel` over `keys` (in the order the client sent them). */
export function checkTrackSignature(
  cfg: Readonly<SharedPollConfig>,
  signature: string,
  channel: string,
  keys: readonly string[],
  user: string,
  nowSeconds: number,
): SignatureCheck {
  const p = parse(signature);
  if (p === undefined) return { ok: false, reason: 'invalid' };
  let verified = cfg.hmac_secret_key !== '' && macMatches(cfg.hmac_secret_key, p, user, channel, keys);
  if (!verified && cfg.hmac_previous_secret_key !== '') {
    const until = cfg.hmac_previous_secret_key_valid_until;
    if (until > 0 && int(p.iat) > until) return { ok: false, reason: 'invalid' };
    verified = macMatches(cfg.hmac_previous_secret_key, p, user, channel, keys);
  }
  if (!verified) return { ok: false, reason: 'invalid' };
  const expiry = int(p.expiry);
  if (expiry > 0 && expiry + EXPIRY_GRACE_SECONDS < nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAt: expiry };
}

/** Signs `keys` as the application backend would (tests, tools). */
export function signTrack(secret: string, channel: string, keys: readonly string[], user: string, iat: number, expiry: number): string {
  const keysHash = createHash('sha256').update(keys.join('\x00')).digest('hex');
  const mac = createHmac('sha256', secret).update(`${iat}\x00${expiry}\x00${user}\x00${channel}\x00${keysHash}`).digest('hex');
  return `${iat}:${expiry}:${mac}`;
}
