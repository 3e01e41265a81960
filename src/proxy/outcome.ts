// Turns a backend answer into what the client gets (docs/proxy.md), the way Centrifugo does: a disconnect or an
// error in the answer is passed on as is; a failed call (timeout, dead or garbage-answering backend) is an
// internal error (100, temporary) so the client retries; a b64 field wins over its raw twin and must decode.
import { Disconnect, Errors, ProtocolError } from '../protocol/errors.js';
import type { ProxyDisconnectBody, ProxyErrorBody } from './types.js';

/** Close codes a backend may ask for; others (0, 1xxx, ≥ 5000) cannot be written to a WebSocket. */
function validCloseCode(code: number): boolean {
  return code >= 3000 && code <= 4999;
}

/** Keeps a reason within a WebSocket close frame (123 bytes), cut on a character boundary. */
function shortReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** Throws the backend's disconnect or error when the answer carries one (disconnect first). */
export function rejectFromAnswer(answer: { error?: ProxyErrorBody; disconnect?: ProxyDisconnectBody }): void {
  const d = answer.disconnect;
  if (d !== undefined) {
    // An impossible close code becomes 3000-range "internal" rather than a socket error.
    if (!validCloseCode(d.code)) throw new Disconnect(3004, 'internal server error');
    throw new Disconnect(d.code, shortReason(d.reason));
  }
  const e = answer.error;
  if (e !== undefined) throw new ProtocolError(e.code, e.message, e.temporary);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The payload of a result: its b64 twin when set (invalid base64 ⇒ 100), else the raw bytes. */
export function payloadOf(raw: Uint8Array | undefined, b64: string): Uint8Array | undefined {
  if (b64 === '') return raw;
  if (!BASE64.test(b64)) throw Errors.internal();
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length > 0 ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : undefined;
}

/** Base64 of request payload bytes (binary_encoding). */
export function toBase64(bytes: Uint8Array | undefined): string {
  if (bytes === undefined || bytes.length === 0) return '';
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
