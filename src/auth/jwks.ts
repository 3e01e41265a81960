// JWKS key sources (docs/protocol.md §3.2): a fixed endpoint, or a template with {{name}} placeholders filled from the
// named groups of issuer_regex / audience_regex matched against the (not yet verified) token's iss / aud.
// Each resolved URL gets its own jose remote key set (1 h cache, 1 s fetch timeout), kept in a small bounded map.

import { createRemoteJWKSet, decodeJwt } from 'jose';
import { InvalidTokenError } from './types.js';

export type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const SAFE_VALUE = /^[A-Za-z0-9._~-]+$/;
const MAX_SETS = 64;

export interface JwksOptions {
  endpoint: string;
  issuerRegex: RegExp | undefined;
  audienceRegex: RegExp | undefined;
  timeoutMs: number;
}

export class JwksSource {
  private readonly sets = new Map<string, RemoteJwks>();
  private readonly templated: boolean;

  constructor(private readonly opts: JwksOptions) {
    this.templated = /\{\{/.test(opts.endpoint);
  }

  /** The key set for this token (throws InvalidTokenError when a template cannot be filled). */
  forToken(token: string): RemoteJwks {
    const url = this.templated ? this.fill(token) : this.opts.endpoint;
    let set = this.sets.get(url);
    if (set === undefined) {
      if (this.sets.size >= MAX_SETS) {
        const oldest = this.sets.keys().next();
        if (oldest.done !== true) this.sets.delete(oldest.value);
      }
      set = createRemoteJWKSet(new URL(url), { timeoutDuration: this.opts.timeoutMs, cacheMaxAge: 3_600_000 });
      this.sets.set(url, set);
    }
    return set;
  }

  private fill(token: string): string {
    let payload: Record<string, unknown>;
    try {
      payload = decodeJwt(token);
    } catch (e) {
      throw new InvalidTokenError(`malformed token: ${(e as Error).message}`);
    }
    const vars = new Map<string, string>();
    const collect = (re: RegExp | undefined, values: unknown[]) => {
      if (re === undefined) return;
      for (const v of values) {
        if (typeof v !== 'string') continue;
        const m = re.exec(v);
        if (m?.groups === undefined) continue;
        for (const [k, g] of Object.entries(m.groups)) if (g !== undefined) vars.set(k, g);
        return;
      }
    };
    collect(this.opts.issuerRegex, [payload['iss']]);
    const aud = payload['aud'];
    collect(this.opts.audienceRegex, Array.isArray(aud) ? aud : [aud]);
    return this.opts.endpoint.replace(PLACEHOLDER, (_all, name: string) => {
      const value = vars.get(name);
      if (value === undefined || !SAFE_VALUE.test(value)) {
        throw new InvalidTokenError(`cannot resolve JWKS endpoint placeholder {{${name}}} from iss/aud`);
      }
      return encodeURIComponent(value);
    });
  }
}
