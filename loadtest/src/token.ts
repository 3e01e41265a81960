// Connection tokens: HS256 JWTs, one user per client. Signed synchronously with node:crypto (a few µs each),
// so that thousands of tokens are ready before the measured phase without a promise per token.
import { createHmac } from 'node:crypto';

export interface TokenOptions {
  secret: string;
  /** Token lifetime in seconds; 0 = no `exp` claim (the connection never expires). */
  ttlSeconds: number;
}

const HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');

export class TokenFactory {
  private readonly key: Buffer;

  constructor(private readonly opts: TokenOptions) {
    this.key = Buffer.from(opts.secret, 'utf8');
  }

  /** Signs `{sub, iat[, exp]}`; `nowSec` is fixed per batch so that a batch shares one timestamp. */
  forUserSync(user: string, nowSec = Math.floor(Date.now() / 1000)): string {
    const claims: { sub: string; iat: number; exp?: number } = { sub: user, iat: nowSec };
    if (this.opts.ttlSeconds > 0) claims.exp = nowSec + this.opts.ttlSeconds;
    const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${body}.${createHmac('sha256', this.key).update(body).digest('base64url')}`;
  }

  forUser(user: string): Promise<string> {
    return Promise.resolve(this.forUserSync(user));
  }
}

/** User id of global client `index` (stable across runs, so reruns hit the same users). */
export function userIdFor(prefix: string, index: number): string {
  return `${prefix}${index}`;
}
