// Client `rpc`: the built-in ping extension first (rpc.ping, method == rpc.ping.method ⇒ `{}`), then the RPC proxy
// of the method's RPC namespace (`ns<rpc.namespace_boundary>method`, docs/proxy.md): unknown namespace ⇒ 104,
// proxy not enabled there ⇒ 108, a failed call ⇒ 100. With neither configured: 108 (ping off) or 104.
import { Errors } from '../../protocol/errors.js';
import type { RpcRequest } from '../../protocol/types.js';
import { payloadOf } from '../../proxy/outcome.js';
import type { RpcOptions } from '../../config/types.js';
import type { Session } from '../session.js';
import { baseRequest, callProxy, metaOf, payload } from './proxied.js';

/** The options of the method's RPC namespace (undefined = no such namespace). */
function rpcOptions(s: Session, method: string): RpcOptions | undefined {
  const rpc = s.ctx.config.rpc;
  const i = rpc.namespace_boundary === '' ? -1 : method.indexOf(rpc.namespace_boundary);
  if (i < 0) return rpc.without_namespace;
  const name = method.slice(0, i);
  return rpc.namespaces.find((n) => n.name === name);
}

function anyRpcProxy(s: Session): boolean {
  const rpc = s.ctx.config.rpc;
  return rpc.without_namespace.proxy_enabled || rpc.namespaces.some((n) => n.proxy_enabled);
}

export async function handleRpc(s: Session, id: number, req: RpcRequest): Promise<void> {
  const method = req.method ?? '';
  const ping = s.ctx.config.rpc.ping;
  if (ping.enabled && method === ping.method) {
    s.sendReply({ id, rpc: {} });
    return;
  }
  if (!anyRpcProxy(s)) {
    if (!ping.enabled) throw Errors.notAvailable();
    throw Errors.methodNotFound();
  }
  const o = rpcOptions(s, method);
  if (o === undefined) throw Errors.methodNotFound();
  if (!o.proxy_enabled) throw Errors.notAvailable();
  const p = s.ctx.proxies.rpc(o.proxy_name);
  if (p === undefined) throw Errors.notAvailable();
  const result = await callProxy(s, p, 'rpc', {
    ...baseRequest(s, p),
    user: s.user,
    method,
    ...payload(p, req.data),
    ...metaOf(s, p),
  });
  if (s.closed) return;
  const data = result !== undefined ? payloadOf(result.data, result.b64data) : undefined;
  s.sendReply({ id, rpc: data !== undefined ? { data } : {} });
}
