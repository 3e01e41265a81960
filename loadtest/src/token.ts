// Connection tokens: HS256 JWTs signed locally with jose, one user per client.
import { SignJWT } from 'jose';

export interface TokenOptions {
  secret: string;
  /** Token lifetime in seconds; 0 = no `exp` claim (the connection never expires). */
  ttlSeconds: number;
}

export class TokenFactory {
  private readonly key: Uint8Array;

  constructor(private readonly opts: TokenOptions) {
    this.key = new TextEncoder().encode(opts.secret);
  }

  async forUser(user: string): Promise<string> {
    const jwt = new SignJWT({ sub: user }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
    if (this.opts.ttlSeconds > 0) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + this.opts.ttlSeconds);
    return jwt.sign(this.key);
  }
}

/** User id of global client `index` (stable across runs, so reruns hit the same users). */
export function userIdFor(prefix: string, index: number): string {
  return `${prefix}${index}`;
}
