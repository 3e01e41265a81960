// permessage-deflate settings of the WebSocket endpoints (websocket and uni_websocket, docs/transports.md), as
// Centrifugo's keys define them: `compression` lets a client's offer be accepted, `compression_level` is the
// zlib level of the server's messages, and a message shorter than `compression_min_size` bytes goes
// uncompressed (0 = compress every message).
import type { PerMessageDeflateOptions } from 'ws';
import type { WebSocketCompression } from '../config/types.js';

export function deflateOptions(c: WebSocketCompression): PerMessageDeflateOptions | false {
  if (!c.compression) return false;
  return { zlibDeflateOptions: { level: c.compression_level }, threshold: c.compression_min_size };
}
