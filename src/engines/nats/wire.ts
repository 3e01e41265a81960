// The bytes Centrifugo's NATS broker puts on `{prefix}.client.{channel}`: one centrifugal/protocol `Push`
// (client.proto) per message, `channel` (2) plus exactly one of `pub` (4), `join` (5) or `leave` (6). A
// publication carries data, publisher info, tags and time (unix ms); a publication with a stream position set by
// another store carries its offset and the epoch in the `__centrifugo_epoch` tag, which is stripped before
// delivery. The Publication / ClientInfo encoders are the ones the Redis engine uses (same protobuf messages).
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import { decodeClientInfo, decodePublication, encodeClientInfo, encodePublication, WireError } from '../redis/wire.js';

export { WireError } from '../redis/wire.js';

/** Tag key Centrifugo uses to attach an epoch to a publication on NATS. */
export const EPOCH_TAG = '__centrifugo_epoch';

const enc = new TextEncoder();
const dec = new TextDecoder();

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** Push{channel, <field>: body}; `body` is the already encoded sub-message. */
function framePush(channel: string, field: number, body: Uint8Array): Uint8Array {
  const ch = enc.encode(channel);
  const chSize = ch.length > 0 ? 1 + varintSize(ch.length) + ch.length : 0;
  const out = new Uint8Array(chSize + 1 + varintSize(body.length) + body.length);
  let p = 0;
  if (ch.length > 0) {
    out[p++] = 0x12;
    p = writeVarint(out, p, ch.length);
    out.set(ch, p);
    p += ch.length;
  }
  out[p++] = (field << 3) | 2;
  p = writeVarint(out, p, body.length);
  out.set(body, p);
  return out;
}

/** Push carrying a publication, as Centrifugo's NatsBroker.Publish builds it. */
export function encodePublicationPush(
  channel: string,
  data: Uint8Array,
  info: ClientInfo | undefined,
  tags: Readonly<Record<string, string>> | undefined,
  timeMs: number,
): Uint8Array {
  return framePush(channel, 4, encodePublication(data, info, tags, timeMs));
}

/** Push carrying a join (5) or leave (6): Join/Leave{info (1)}. */
export function encodePresencePush(channel: string, kind: 'join' | 'leave', info: ClientInfo): Uint8Array {
  const ci = encodeClientInfo(info);
  const body = new Uint8Array(1 + varintSize(ci.length) + ci.length);
  body[0] = 0x0a;
  body.set(ci, writeVarint(body, 1, ci.length));
  return framePush(channel, kind === 'join' ? 5 : 6, body);
}

export type NatsPush =
  | { kind: 'publication'; channel: string; pub: Publication; position: StreamPosition | undefined; timeMs: number }
  | { kind: 'join' | 'leave'; channel: string; info: ClientInfo };

interface Span {
  start: number;
  end: number;
}

function readVarint(buf: Uint8Array, pos: { p: number }): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos.p >= buf.length) throw new WireError('truncated varint');
    const b = buf[pos.p++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 128;
  }
  throw new WireError('varint too long');
}

function readSpan(buf: Uint8Array, pos: { p: number }): Span {
  const len = readVarint(buf, pos);
  const start = pos.p;
  const end = start + len;
  if (end > buf.length) throw new WireError('truncated field');
  pos.p = end;
  return { start, end };
}

function skip(buf: Uint8Array, pos: { p: number }, wireType: number): void {
  if (wireType === 0) readVarint(buf, pos);
  else if (wireType === 2) readSpan(buf, pos);
  else if (wireType === 1) pos.p += 8;
  else if (wireType === 5) pos.p += 4;
  else throw new WireError(`unsupported wire type ${wireType}`);
  if (pos.p > buf.length) throw new WireError('truncated field');
}

/** Join/Leave{info (1)} → ClientInfo. */
function decodeInfoHolder(buf: Uint8Array): ClientInfo {
  const pos = { p: 0 };
  let info: ClientInfo = { user: '', client: '' };
  while (pos.p < buf.length) {
    const key = readVarint(buf, pos);
    if (key === 0x0a) {
      const s = readSpan(buf, pos);
      info = decodeClientInfo(buf.subarray(s.start, s.end));
    } else {
      skip(buf, pos, key & 7);
    }
  }
  return info;
}

/** Parses one message of a client subject. Throws WireError when malformed or when it carries nothing Gyre knows. */
export function parseNatsPush(buf: Uint8Array): NatsPush {
  const pos = { p: 0 };
  let channel = '';
  let pub: Span | undefined;
  let join: Span | undefined;
  let leave: Span | undefined;
  while (pos.p < buf.length) {
    const key = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (wt === 2 && (field === 2 || field === 4 || field === 5 || field === 6)) {
      const s = readSpan(buf, pos);
      if (field === 2) channel = dec.decode(buf.subarray(s.start, s.end));
      else if (field === 4) pub = s;
      else if (field === 5) join = s;
      else leave = s;
    } else {
      skip(buf, pos, wt);
    }
  }
  if (pub !== undefined) {
    const d = decodePublication(buf, pub.start, pub.end);
    let position: StreamPosition | undefined;
    const tags = d.pub.tags;
    if (tags !== undefined && Object.hasOwn(tags, EPOCH_TAG)) {
      if (d.offset > 0) position = { offset: d.offset, epoch: tags[EPOCH_TAG] ?? '' };
      delete tags[EPOCH_TAG];
      if (Object.keys(tags).length === 0) delete d.pub.tags;
    }
    if (position !== undefined) d.pub.offset = position.offset;
    return { kind: 'publication', channel, pub: d.pub, position, timeMs: d.timeMs };
  }
  if (join !== undefined) return { kind: 'join', channel, info: decodeInfoHolder(buf.subarray(join.start, join.end)) };
  if (leave !== undefined) return { kind: 'leave', channel, info: decodeInfoHolder(buf.subarray(leave.start, leave.end)) };
  throw new WireError('push without publication, join or leave');
}
