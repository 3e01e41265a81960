// Synchronous HS256 signing with node:crypto, for tokens minted in bulk where jose's promise per token costs
// more than the signature itself: the start-up warm-up and benchmarks. (`gyre gentoken` uses jose; gyre-bench has
// its own copy in loadtest/src/token.ts because loadtest/ may import src/protocol only.)
import { createHmac } from 'node:crypto';

const HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');

/** A compact HS256 JWS of `claims` under `key` (a secret string is taken as UTF-8). */
export function signHs256(claims: Readonly<Record<string, unknown>>, key: Buffer | string): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}
