// The cheap, synchronous part of a WebSocket upgrade (docs/protocol.md §1.4, §7): path, origin, limits and
// protocol selection. No token checks and no engine calls happen here.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ProtocolFormat } from '../protocol/types.js';

export const SUBPROTOCOL_JSON = 'centrifuge-json';
export const SUBPROTOCOL_PROTOBUF = 'centrifuge-protobuf';

/**
 * The subprotocol echoed in the 101 answer: the first entry of the client's list that is one of ours
 * (Centrifugo's choice), or none.
 */
export function chooseSubprotocol(protocols: Iterable<string>): string | false {
  for (const p of protocols) {
    if (p === SUBPROTOCOL_JSON || p === SUBPROTOCOL_PROTOBUF) return p;
  }
  return false;
}

/** Protocol of a connection: protobuf when that subprotocol was chosen, or by `format` / `cf_protocol`. */
export function formatOf(chosen: string | false, query: string): ProtocolFormat {
  if (chosen === SUBPROTOCOL_PROTOBUF) return 'protobuf';
  return formatFromQuery(query);
}

function formatFromQuery(query: string): ProtocolFormat {
  if (query !== '') {
    const params = new URLSearchParams(query);
    if (params.get('format') === 'protobuf' || params.get('cf_protocol') === 'protobuf') return 'protobuf';
  }
  return 'json';
}

/** Answers a refused upgrade with a plain HTTP response and drops the socket. */
export function rejectUpgrade(socket: Duplex, status: number): void {
  socket.on('error', ignore);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = STATUS_CODES[status] ?? 'Error';
  const timer = setTimeout(() => socket.destroy(), 1000);
  timer.unref();
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    () => {
      clearTimeout(timer);
      socket.destroy();
    },
  );
}

/**
 * Refuses a handshake the way `ws` does (its abortHandshake): text/html body with the reason, extra headers
 * such as `Sec-WebSocket-Version`, then the socket is dropped once written.
 */
export function abortHandshake(
  socket: Duplex,
  status: number,
  message: string,
  headers?: Readonly<Record<string, string>>,
): void {
  socket.on('error', ignore);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let extra = '';
  if (headers !== undefined) for (const [k, v] of Object.entries(headers)) extra += `${k}: ${v}\r\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/html\r\n` +
      `Content-Length: ${Buffer.byteLength(message)}\r\n${extra}\r\n${message}`,
  );
}

function ignore(): void {}
