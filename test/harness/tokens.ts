// HS256 connection and subscription JWTs for tests (docs/protocol.md §3.2, §3.3), signed with jose.
import { SignJWT } from 'jose';

export const TEST_HMAC_SECRET = 'gyre-compat-test-secret-0123456789';

export interface ConnClaims {
  sub: string;
  /** Seconds from now; negative ⇒ already expired. Omit for no `exp`. */
  expIn?: number;
  info?: unknown;
  b64info?: string;
  channels?: string[];
  subs?: Record<string, unknown>;
  meta?: Record<string, unknown>;
  expire_at?: number;
  /** Any other claim (e.g. `channel` to make an invalid connection token). */
  extra?: Record<string, unknown>;
}

export interface SubClaims {
  sub: string;
  channel?: string;
  expIn?: number;
  info?: unknown;
  data?: unknown;
  override?: Record<string, { value: boolean }>;
  expire_at?: number;
  extra?: Record<string, unknown>;
}

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

async function sign(payload: Record<string, unknown>, expIn: number | undefined, secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const body: Record<string, unknown> = { ...payload, iat: now };
  if (expIn !== undefined) body['exp'] = now + expIn;
  return await new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key(secret));
}

export async function connToken(c: ConnClaims, secret = TEST_HMAC_SECRET): Promise<string> {
  const p: Record<string, unknown> = { sub: c.sub };
  if (c.info !== undefined) p['info'] = c.info;
  if (c.b64info !== undefined) p['b64info'] = c.b64info;
  if (c.channels !== undefined) p['channels'] = c.channels;
  if (c.subs !== undefined) p['subs'] = c.subs;
  if (c.meta !== undefined) p['meta'] = c.meta;
  if (c.expire_at !== undefined) p['expire_at'] = c.expire_at;
  return await sign({ ...p, ...c.extra }, c.expIn, secret);
}

export async function subToken(c: SubClaims, secret = TEST_HMAC_SECRET): Promise<string> {
  const p: Record<string, unknown> = { sub: c.sub };
  if (c.channel !== undefined) p['channel'] = c.channel;
  if (c.info !== undefined) p['info'] = c.info;
  if (c.data !== undefined) p['data'] = c.data;
  if (c.override !== undefined) p['override'] = c.override;
  if (c.expire_at !== undefined) p['expire_at'] = c.expire_at;
  return await sign({ ...p, ...c.extra }, c.expIn, secret);
}
