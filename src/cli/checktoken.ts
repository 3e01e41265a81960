// `gyre checktoken TOKEN` / `gyre checksubtoken TOKEN`: verify against the configured keys and show the claims.

import { decodeJwt } from 'jose';
import { InvalidTokenError, JwtVerifier, TokenExpiredError } from '../auth/index.js';
import { CliExit, out } from './common.js';
import { loadOrExit } from './load-config.js';

export interface CheckOpts {
  config?: string;
}

function expiryLine(exp: number | undefined, nowSec: number): string {
  if (exp === undefined) return 'expires: never';
  return `expires: ${new Date(exp * 1000).toISOString()} (in ${Math.round(exp - nowSec)}s)`;
}

export async function runChecktoken(token: string, opts: CheckOpts, subscription: boolean): Promise<void> {
  const { config } = loadOrExit(opts.config);
  let verifier: JwtVerifier;
  try {
    verifier = new JwtVerifier(config.client);
  } catch (e) {
    throw new CliExit(`config error: ${(e as Error).message}`);
  }
  try {
    const claims = subscription ? await verifier.verifySubscribeToken(token) : await verifier.verifyConnectToken(token);
    const channel = 'channel' in claims ? ` and channel "${claims.channel}"` : '';
    out(`valid ${subscription ? 'subscription ' : ''}token for user "${claims.sub}"${channel}`);
    out(expiryLine(claims.exp, Date.now() / 1000));
    out(`claims: ${JSON.stringify(decodeJwt(token))}`);
  } catch (e) {
    if (e instanceof TokenExpiredError) throw new CliExit(`token error: expired: ${e.message}`);
    if (e instanceof InvalidTokenError) throw new CliExit(`token error: invalid: ${e.message}`);
    throw e;
  }
}
