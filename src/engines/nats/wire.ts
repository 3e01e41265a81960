// The bytes Centrifugo's NATS broker puts on `{prefix}.client.{channel}`: one centrifugal/protocol `Push`
// (client.proto) per message, `channel` (2) plus exactly one of `pub` (4), `join` (5) or `leave` (6). A
// publication carries data, publisher info, tags and time (unix ms); a publication with a stream position set by
// another store carries its offset and the epoch in the `__centrifugo_epoch` tag, which is stripped before
// delivery. Publication and ClientInfo are the protobuf messages every engine carries (../protobuf-wire.ts).
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import {
  decodeClientInfo,
  decodePublication,
  encodeClientInfo,
  encodePublication,
  Reader,
  varintSize,
  WireError,
  Writer,
} from '../protobuf-wire.js';

export { WireError } from '../protobuf-wire.js';

/** Tag key Centrifugo uses to attach an epoch to a publication on NATS. */
export const EPOCH_TAG = '__centrifugo_epoch';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Push{channel, <field>: body}; `body` is the already encoded sub-message. */
function framePush(channel: string, field: number, body: Uint8Array): Uint8Array {
  const ch = enc.encode(channel);
  const chSize = ch.length > 0 ? 1 + varintSize(ch.length) + ch.length : 0;
  const w = new Writer(chSize + 1 + varintSize(body.length) + body.length);
  if (ch.length > 0) w.bytes(0x12, ch);
  w.bytes((field << 3) | 2, body);
  return w.buf;
}

/**
 * Push carrying a publication, as Centrifugo's NatsBroker.Publish builds it; `delta` sets Publication.delta for
 * a publication made with delta (the receiving node clears it: NATS carries no previous publication). With a
 * `position` another store assigned (Redis, in the redisnats broker), the offset goes in Publication.offset and
 * the epoch in the `__centrifugo_epoch` tag, as Centrifugo's NatsBroker.PublishWithStreamPosition sends them;
 * parseNatsPush reads them back and strips the tag.
 */
export function encodePublicationPush(
  channel: string,
  data: Uint8Array,
  info: ClientInfo | undefined,
  tags: Readonly<Record<string, string>> | undefined,
  timeMs: number,
  delta = false,
  position?: StreamPosition,
): Uint8Array {
  if (position === undefined) return framePush(channel, 4, encodePublication(data, info, tags, timeMs, delta));
  const withEpoch = { ...tags, [EPOCH_TAG]: position.epoch };
  return framePush(channel, 4, encodePublication(data, info, withEpoch, timeMs, delta, position.offset));
}

/** Push carrying a join (5) or leave (6): Join/Leave{info (1)}. */
export function encodePresencePush(channel: string, kind: 'join' | 'leave', info: ClientInfo): Uint8Array {
  const ci = encodeClientInfo(info);
  const body = new Writer(1 + varintSize(ci.length) + ci.length);
  body.bytes(0x0a, ci);
  return framePush(channel, kind === 'join' ? 5 : 6, body.buf);
}

export type NatsPush =
  | { kind: 'publication'; channel: string; pub: Publication; position: StreamPosition | undefined; timeMs: number }
  | { kind: 'join' | 'leave'; channel: string; info: ClientInfo };

/** Join/Leave{info (1)} → ClientInfo. */
function decodeInfoHolder(buf: Uint8Array): ClientInfo {
  const r = new Reader(buf, 0, buf.length);
  let info: ClientInfo = { user: '', client: '' };
  while (r.pos < r.end) {
    const key = r.varint();
    if (key === 0x0a) {
      const [s, e] = r.span();
      info = decodeClientInfo(buf.subarray(s, e));
    } else {
      r.skip(key & 7);
    }
  }
  return info;
}

/** Parses one message of a client subject. Throws WireError when malformed or when it carries nothing Gyre knows. */
export function parseNatsPush(buf: Uint8Array): NatsPush {
  const r = new Reader(buf, 0, buf.length);
  let channel = '';
  let pub: [number, number] | undefined;
  let join: [number, number] | undefined;
  let leave: [number, number] | undefined;
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (wt === 2 && (field === 2 || field === 4 || field === 5 || field === 6)) {
      const span = r.span();
      if (field === 2) channel = dec.decode(buf.subarray(span[0], span[1]));
      else if (field === 4) pub = span;
      else if (field === 5) join = span;
      else leave = span;
    } else {
      r.skip(wt);
    }
  }
  if (pub !== undefined) {
    const d = decodePublication(buf, pub[0], pub[1]);
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
  if (join !== undefined) return { kind: 'join', channel, info: decodeInfoHolder(buf.subarray(join[0], join[1])) };
  if (leave !== undefined) return { kind: 'leave', channel, info: decodeInfoHolder(buf.subarray(leave[0], leave[1])) };
  throw new WireError('push without publication, join or leave');
}
