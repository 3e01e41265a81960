// What the command handlers share to call a proxy (docs/proxy.md): the common request fields, payloads as raw
// bytes or base64, the connection's meta and emulated headers, and the one place where a failed call becomes
// the client's answer. Failures are logged at most once per proxy, kind and reason per 10 s with a count.
import type { Logger } from 'pino';
import { Errors } from '../../protocol/errors.js';
import { rejectFromAnswer, toBase64 } from '../../proxy/outcome.js';
import type { BaseRequest, CallContext, ProxyClient, ProxyKind, ProxyMessages } from '../../proxy/types.js';
import type { Session } from '../session.js';

/** Per-connection proxy state: the meta the connect proxy (or token) gave, and the connect command's headers. */
interface ProxySessionState {
  meta?: Uint8Array;
  emulatedHeaders?: Record<string, string>;
}

const states = new WeakMap<Session, ProxySessionState>();

function stateOf(s: Session): ProxySessionState {
  let st = states.get(s);
  if (st === undefined) {
    st = {};
    states.set(s, st);
  }
  return st;
}

export function setConnectionMeta(s: Session, meta: Uint8Array | undefined): void {
  if (meta !== undefined) stateOf(s).meta = meta;
}

export function setEmulatedHeaders(s: Session, headers: Record<string, string> | undefined): void {
  if (headers !== undefined && Object.keys(headers).length > 0) stateOf(s).emulatedHeaders = headers;
}

/** What the request builders read of a proxy (a ProxyClient or a SubscribeStreamProxy). */
type ProxyTraits = Pick<ProxyClient, 'binary' | 'includeMeta'>;

export function baseRequest(s: Session, p: ProxyTraits): BaseRequest {
  return {
    client: s.id,
    transport: s.transportName,
    protocol: s.transport.info.protocol,
    encoding: p.binary ? 'binary' : 'json',
  };
}

/** `data` (raw JSON) or `b64data` (binary_encoding) for a request payload. */
export function payload(p: ProxyTraits, data: Uint8Array | undefined): { data?: Uint8Array; b64data?: string } {
  if (data === undefined || data.length === 0) return {};
  return p.binary ? { b64data: toBase64(data) } : { data };
}

/** `meta` when the proxy includes the connection meta and the connection has one. */
export function metaOf(s: Session, p: ProxyTraits): { meta?: Uint8Array } {
  const meta = states.get(s)?.meta;
  return p.includeMeta && meta !== undefined ? { meta } : {};
}

const LOG_WINDOW_MS = 10_000;
const lastLogged = new Map<string, { at: number; suppressed: number }>();

/** The client headers a call may forward (transport headers, emulated connect headers). */
export function callContext(s: Session): CallContext {
  return { headers: s.transport.info.headers, emulatedHeaders: states.get(s)?.emulatedHeaders };
}

export function logFailure(logger: Logger, p: Pick<ProxyClient, 'name' | 'endpoint'>, kind: string, err: unknown, client: string): void {
  const reason = err instanceof Error ? ((err as { reason?: string }).reason ?? err.name) : 'error';
  const key = `${p.name}\u0000${kind}\u0000${reason}`;
  const now = Date.now();
  const seen = lastLogged.get(key);
  if (seen !== undefined && now - seen.at < LOG_WINDOW_MS) {
    seen.suppressed++;
    return;
  }
  if (lastLogged.size > 1024) lastLogged.clear();
  lastLogged.set(key, { at: now, suppressed: 0 });
  logger.error(
    { err, proxy: p.name, endpoint: p.endpoint, kind, client, suppressed: seen?.suppressed ?? 0 },
    `error proxying ${kind}`,
  );
}

/**
 * One call; the backend's disconnect or error is thrown as the client's (Disconnect / ProtocolError) unless
 * `ignoreRejections` (the refresh proxies read only the result, as Centrifugo's do).
 * `undefined` when the call failed (timeout, dead backend, bad answer): logged, the caller decides.
 */
export async function tryProxy<K extends ProxyKind>(
  s: Session,
  p: ProxyClient,
  kind: K,
  req: ProxyMessages[K]['req'],
  ignoreRejections = false,
): Promise<{ result: ProxyMessages[K]['res'] | undefined } | undefined> {
  let answer;
  try {
    answer = await p.call(kind, req, callContext(s));
  } catch (err) {
    if (!s.closed) logFailure(s.ctx.logger, p, kind, err, s.id);
    return undefined;
  }
  if (!ignoreRejections) rejectFromAnswer(answer);
  return { result: answer.result };
}

/** Like tryProxy, but a failed call is the client's internal error (100, temporary), as in Centrifugo. */
export async function callProxy<K extends ProxyKind>(
  s: Session,
  p: ProxyClient,
  kind: K,
  req: ProxyMessages[K]['req'],
): Promise<ProxyMessages[K]['res'] | undefined> {
  const r = await tryProxy(s, p, kind, req);
  if (r === undefined) throw Errors.internal();
  return r.result;
}
