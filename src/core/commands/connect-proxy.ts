// The connect proxy (docs/proxy.md): a client connecting without a token gets its credentials from the backend.
// The answer's user, expire_at, info, data, channels, subs and meta are applied the way Centrifugo applies them;
// an unknown channel in channels/subs is 102; a failed call is 100 (the client retries); no result at all leaves
// the connection without credentials (the caller then falls back to anonymous access or answers 3501).
import type { TokenSubOptions } from '../../auth/types.js';
import type { ConnectRequest } from '../../protocol/types.js';
import { payloadOf } from '../../proxy/outcome.js';
import type { ProxyClient } from '../../proxy/types.js';
import type { ResolvedChannel } from '../channels.js';
import type { Session } from '../session.js';
import { baseRequest, callProxy, payload, setConnectionMeta, setEmulatedHeaders } from './proxied.js';

export interface ProxyCredentials {
  user: string;
  /** Unix seconds, 0 = never. */
  expireAt: number;
  info: Uint8Array | undefined;
  /** ConnectResult.data for the client. */
  data: Uint8Array | undefined;
  subs: Array<[string, { r: ResolvedChannel; opts: TokenSubOptions }]>;
}

export async function proxyConnect(s: Session, p: ProxyClient, req: ConnectRequest): Promise<ProxyCredentials | undefined> {
  setEmulatedHeaders(s, req.headers);
  const channels = req.subs !== undefined ? Object.keys(req.subs) : [];
  const result = await callProxy(s, p, 'connect', {
    ...baseRequest(s, p),
    ...payload(p, req.data),
    ...(req.name !== undefined ? { name: req.name } : {}),
    ...(req.version !== undefined ? { version: req.version } : {}),
    ...(channels.length > 0 ? { channels } : {}),
  });
  if (result === undefined) return undefined;
  const subs: ProxyCredentials['subs'] = [];
  for (const ch of result.channels) subs.push([ch, { r: s.ctx.resolver.resolve(ch), opts: {} }]);
  for (const [ch, o] of Object.entries(result.subs)) {
    const r = s.ctx.resolver.resolve(ch);
    const opts: TokenSubOptions = {};
    const info = payloadOf(o.info, o.b64info);
    const data = payloadOf(o.data, o.b64data);
    if (info !== undefined) opts.info = info;
    if (data !== undefined) opts.data = data;
    if (o.override !== undefined) opts.override = o.override;
    subs.push([ch, { r, opts }]);
  }
  setConnectionMeta(s, result.meta);
  return {
    user: result.user,
    expireAt: result.expire_at > 0 ? result.expire_at : 0,
    info: payloadOf(result.info, result.b64info),
    data: payloadOf(result.data, result.b64data),
    subs,
  };
}
