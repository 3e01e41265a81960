// Which handler takes a WebSocket upgrade: uni_websocket requests are left to the http.Server (the front's fast path
// only serves bidirectional WebSocket), everything else goes to the bidirectional handler, or 404 without one.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { UpgradeTarget } from '../http/front.js';
import type { RequestHead } from './handshake.js';
import { rejectUpgrade } from './upgrade.js';
import type { UniWebSocketHandler } from './uni-websocket.js';
import type { WebSocketHandler } from './websocket.js';

export class UpgradeRouter implements UpgradeTarget {
  constructor(
    private readonly ws: WebSocketHandler | undefined,
    private readonly uni: UniWebSocketHandler | undefined,
  ) {}

  tryUpgrade(head: RequestHead, socket: Socket, rest: Buffer, startedAt: number): boolean {
    if (this.uni?.matches(head.url) === true) return false;
    if (this.ws !== undefined) return this.ws.tryUpgrade(head, socket, rest, startedAt);
    rejectUpgrade(socket, 404);
    return true;
  }

  earlyRefusal(first: Buffer): ((socket: Socket) => void) | null {
    return this.ws?.earlyRefusal(first) ?? null;
  }

  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (this.uni?.matches(req.url) === true) this.uni.onUpgrade(req, socket, head);
    else if (this.ws !== undefined) this.ws.onUpgrade(req, socket, head);
    else rejectUpgrade(socket, 404);
  };
}
