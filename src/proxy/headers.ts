// Which client headers go to the backend with a call (docs/proxy.md): headers the client sent in its connect
// command (emulation) only when listed in `emulated_headers`, then the client's transport request headers listed
// in `http_headers`, which win over an emulated value of the same name. Names are compared lower-case.
import type { ProxyConfig } from '../config/types.js';
import type { CallContext } from './types.js';

export function forwardedHeaders(config: ProxyConfig, ctx: CallContext): Map<string, string | string[]> {
  const out = new Map<string, string | string[]>();
  if (ctx.emulatedHeaders !== undefined && config.emulated_headers.length > 0) {
    const allowed = new Set(config.emulated_headers.map((h) => h.toLowerCase()));
    for (const [k, v] of Object.entries(ctx.emulatedHeaders)) {
      const name = k.toLowerCase();
      if (allowed.has(name) && isHeaderValue(v)) out.set(name, v);
    }
  }
  for (const h of config.http_headers) {
    const name = h.toLowerCase();
    const v = ctx.headers[name];
    if (v !== undefined) out.set(name, v);
  }
  return out;
}

/** A client-supplied value must not smuggle a header break (node:http would throw on it). */
function isHeaderValue(v: string): boolean {
  return !/[\r\n\0]/.test(v);
}

/** The effective deadline of a call: Centrifugo's default (1 s) when the configured one is 0. */
export function callTimeout(config: ProxyConfig): number {
  return config.timeout > 0 ? config.timeout : 1000;
}
