// The bytes centrifuge puts into Redis: Publication and ClientInfo as protobuf (centrifugal/protocol's
// client.proto field numbers), and the PUB/SUB framing around them:
//   <Publication>                        publication of a channel without history
//   __p1:<offset>:<epoch>__<Publication> publication appended to a stream (position travels in the prefix)
//   __d1:<offset>:<epoch>:<n>:<prev>:<m>:<Publication>   same with the previous Publication of the stream, for a
//                                        publication made with delta (n = 0 when the stream had none)
//   __j__<ClientInfo> / __l__<ClientInfo> join / leave
// A protobuf message never starts with "__" (0x5f would be field 11 with wire type 7, which does not exist),
// so the prefix is unambiguous. Payload data stays opaque bytes: decoding returns views into the buffer.
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import { decodeClientInfo, decodePublication, encodeClientInfo, WireError, type DecodedPublication } from '../protobuf-wire.js';

export { decodeClientInfo, decodePublication, encodeClientInfo, encodePublication, WireError } from '../protobuf-wire.js';
export type { DecodedPublication } from '../protobuf-wire.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

const JOIN = enc.encode('__j__');
const LEAVE = enc.encode('__l__');

export function framePresenceEvent(kind: 'join' | 'leave', info: ClientInfo): Uint8Array {
  const body = encodeClientInfo(info);
  const prefix = kind === 'join' ? JOIN : LEAVE;
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

const UNDERSCORE = 0x5f;

export type PushMessage =
  | {
      kind: 'publication';
      decoded: DecodedPublication;
      position: StreamPosition | undefined;
      /**
       * The channel's previous publication, when the publisher asked for delta: from the `__d1` frame (empty
       * there when the stream had none), or Publication.prev_data.
       */
      prev: Publication | undefined;
    }
  | { kind: 'join' | 'leave'; info: ClientInfo };

/** Parses one PUB/SUB payload of a client channel. Throws WireError when it is malformed. */
export function parsePush(buf: Uint8Array): PushMessage {
  if (buf.length < 2 || buf[0] !== UNDERSCORE || buf[1] !== UNDERSCORE) {
    const decoded = decodePublication(buf);
    return { kind: 'publication', decoded, position: ownPosition(decoded), prev: prevData(decoded) };
  }
  const type = buf[2];
  if (type === 0x6a /* j */ || type === 0x6c /* l */) {
    if (buf[3] !== UNDERSCORE || buf[4] !== UNDERSCORE) throw new WireError('malformed join/leave prefix');
    return { kind: type === 0x6a ? 'join' : 'leave', info: decodeClientInfo(buf.subarray(5)) };
  }
  if (type === 0x70 /* p */) {
    // __p1:<offset>:<epoch>__<payload>
    const headerEnd = indexOfPair(buf, 3);
    if (headerEnd < 0) throw new WireError('malformed publication prefix');
    const header = dec.decode(buf.subarray(2, headerEnd)); // p1:offset:epoch
    const parts = header.split(':');
    if (parts.length < 3 || parts[0] !== 'p1') throw new WireError('malformed publication header');
    const offset = Number(parts[1]);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new WireError('bad offset');
    const epoch = parts.slice(2).join(':');
    const decoded = decodePublication(buf, headerEnd + 2, buf.length);
    return { kind: 'publication', decoded, position: positionOf(decoded, offset, epoch), prev: prevData(decoded) };
  }
  if (type === 0x64 /* d */) {
    // __d1:<offset>:<epoch>:<prevLen>:<prev>:<len>:<payload>; lengths are byte lengths.
    let p = 2;
    const field = (): string => {
      const colon = buf.indexOf(0x3a, p);
      if (colon < 0) throw new WireError('malformed delta header');
      const s = dec.decode(buf.subarray(p, colon));
      p = colon + 1;
      return s;
    };
    if (field() !== 'd1') throw new WireError('malformed delta header');
    const offset = Number(field());
    const epoch = field();
    const prevLen = Number(field());
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(prevLen) || prevLen < 0) throw new WireError('bad delta header');
    const prevStart = p;
    p += prevLen;
    if (p >= buf.length || buf[p] !== 0x3a) throw new WireError('bad delta previous payload');
    p++;
    const len = Number(field());
    if (!Number.isSafeInteger(len) || len < 0 || p + len > buf.length) throw new WireError('bad delta payload');
    const decoded = decodePublication(buf, p, p + len);
    const prev = prevLen > 0 ? decodePublication(buf, prevStart, prevStart + prevLen).pub : prevData(decoded);
    return { kind: 'publication', decoded, position: positionOf(decoded, offset, epoch), prev };
  }
  throw new WireError('unknown push type');
}

function prevData(d: DecodedPublication): Publication | undefined {
  return d.prevData !== undefined ? { data: d.prevData } : undefined;
}

function ownPosition(d: DecodedPublication): StreamPosition | undefined {
  return d.offset > 0 ? { offset: d.offset, epoch: d.epoch } : undefined;
}

function positionOf(d: DecodedPublication, offset: number, epoch: string): StreamPosition {
  return { offset: d.offset > 0 ? d.offset : offset, epoch: d.epoch !== '' ? d.epoch : epoch };
}

function indexOfPair(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) if (buf[i] === UNDERSCORE && buf[i + 1] === UNDERSCORE) return i;
  return -1;
}
