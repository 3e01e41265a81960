// `gyre gentoken -u USER [-t TTL] [-q]` and `gyre gensubtoken -u USER -s CHANNEL [-t TTL] [-q]`: HS256 JWTs signed
// with the configured HMAC key (client.subscription_token.* for subscription tokens when enabled).

import { SignJWT, type JWTPayload } from 'jose';
import { formatDuration, type GyreConfig } from '../config/index.js';
import { CliExit, out } from './common.js';
import { loadOrExit } from './load-config.js';

export interface TokenOpts {
  config?: string;
  user: string;
  ttl: number;
  quiet: boolean;
  channel?: string;
}

export async function signHs256(claims: JWTPayload, secret: string, ttl: number, nowSec: number): Promise<string> {
  const payload: JWTPayload = { ...claims, iat: nowSec };
  if (ttl !== -1) {
    if (ttl <= 0) throw new CliExit('ttl must be a positive number of seconds or -1 (no expiration)');
    payload.exp = nowSec + ttl;
  }
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

function secretFor(config: Readonly<GyreConfig>, subscription: boolean): { key: string; path: string } {
  if (subscription && config.client.subscription_token.enabled) {
    return { key: config.client.subscription_token.hmac_secret_key, path: 'client.subscription_token.hmac_secret_key' };
  }
  return { key: config.client.token.hmac_secret_key, path: 'client.token.hmac_secret_key' };
}

export async function runGentoken(opts: TokenOpts, subscription: boolean): Promise<void> {
  const { config } = loadOrExit(opts.config);
  const { key, path } = secretFor(config, subscription);
  if (key === '') throw new CliExit(`no HMAC secret key set in config (${path})`);
  const claims: JWTPayload = { sub: opts.user };
  if (subscription) claims['channel'] = opts.channel ?? '';
  const token = await signHs256(claims, key, opts.ttl, Math.floor(Date.now() / 1000));
  if (opts.quiet) {
    out(token);
    return;
  }
  const ttl = opts.ttl === -1 ? 'no expiration' : `expiration TTL ${formatDuration(opts.ttl * 1000)}`;
  const what = subscription ? `subscription JWT for user "${opts.user}" and channel "${opts.channel ?? ''}"` : `JWT for user "${opts.user}"`;
  out(`HMAC SHA-256 ${what} with ${ttl}:`);
  out(token);
}
