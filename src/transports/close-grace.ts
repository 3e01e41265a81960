// How long a WebSocket transport waits for the peer's close frame after sending its own, before it drops the
// TCP connection. A client closed for being slow (3008) is one whose socket does not drain: it cannot read our
// close frame behind its full buffers, let alone answer it, so holding it (and its queued bytes) for the normal
// grace only delays freeing them. Centrifugo gives every write, the close frame's included, its 1 s
// websocket write timeout.
import { DisconnectCode } from '../protocol/codes.js';

/** Wait for the peer's close frame (normal closes). */
export const CLOSE_GRACE_MS = 5000;
/** Wait after a 3008 (slow) close. */
export const SLOW_CLOSE_GRACE_MS = 1000;

/** The close grace for a close with this code (undefined: a plain close). */
export function closeGraceMs(code: number | undefined): number {
  return code === DisconnectCode.Slow ? SLOW_CLOSE_GRACE_MS : CLOSE_GRACE_MS;
}
