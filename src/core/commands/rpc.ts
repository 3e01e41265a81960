// Client `rpc`: 108 unless the built-in ping extension is on; then method == rpc.ping.method ⇒ `{}`, else 104.
import { Errors } from '../../protocol/errors.js';
import type { RpcRequest } from '../../protocol/types.js';
import type { Session } from '../session.js';

export function handleRpc(s: Session, id: number, req: RpcRequest): Promise<void> {
  const ping = s.ctx.config.rpc.ping;
  if (!ping.enabled) throw Errors.notAvailable();
  if ((req.method ?? '') !== ping.method) throw Errors.methodNotFound();
  s.sendReply({ id, rpc: {} });
  return Promise.resolve();
}
