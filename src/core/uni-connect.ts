// Connect errors on a unidirectional transport (docs/transports.md): there is no reply to carry them, so the error
// code becomes a disconnect. Configured transforms (client.connect_code_to_unidirectional_disconnect) come first,
// then Centrifugo's defaults (expired and token expired ⇒ 3005, too many requests ⇒ 3013, permission denied ⇒
// 3507); any other code ⇒ 3004.
import { Disconnect } from '../protocol/errors.js';
import { DisconnectCode, ErrorCode } from '../protocol/codes.js';
import type { ClientConfig } from '../config/types.js';

const DEFAULTS: ReadonlyMap<number, DisconnectCode> = new Map<number, DisconnectCode>([
  [ErrorCode.Expired, DisconnectCode.Expired],
  [ErrorCode.TokenExpired, DisconnectCode.Expired],
  [ErrorCode.TooManyRequests, DisconnectCode.TooManyRequests],
  [ErrorCode.PermissionDenied, DisconnectCode.PermissionDenied],
]);

export function uniConnectDisconnect(code: number, cfg: ClientConfig['connect_code_to_unidirectional_disconnect']): Disconnect {
  if (cfg.enabled) {
    for (const t of cfg.transforms) {
      if (t.code === code) return new Disconnect(t.to.code, t.to.reason);
    }
  }
  return Disconnect.of(DEFAULTS.get(code) ?? DisconnectCode.InternalServerError);
}
