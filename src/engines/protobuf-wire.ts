// Centrifuge's protobuf messages as the engines carry them between nodes (centrifugal/protocol's client.proto
// field numbers): Publication and ClientInfo, encoded and decoded by hand so payload data stays opaque bytes
// (decoding returns views into the buffer). The Redis engine frames them with its prefixes (redis/wire.ts); the
// NATS broker wraps them in a Push (nats/wire.ts).
import type { ClientInfo, Publication } from '../protocol/types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------------------------------------------------
// Encoding

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export class Writer {
  readonly buf: Uint8Array;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  bytes(tag: number, b: Uint8Array): void {
    this.buf[this.pos++] = tag;
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

const fieldSize = (len: number): number => 1 + varintSize(len) + len;

interface EncodedInfo {
  user: Uint8Array;
  client: Uint8Array;
  connInfo: Uint8Array | undefined;
  chanInfo: Uint8Array | undefined;
  size: number;
}

function prepareInfo(info: ClientInfo): EncodedInfo {
  const user = enc.encode(info.user);
  const client = enc.encode(info.client);
  const connInfo = info.conn_info !== undefined && info.conn_info.length > 0 ? info.conn_info : undefined;
  const chanInfo = info.chan_info !== undefined && info.chan_info.length > 0 ? info.chan_info : undefined;
  let size = 0;
  if (user.length > 0) size += fieldSize(user.length);
  if (client.length > 0) size += fieldSize(client.length);
  if (connInfo !== undefined) size += fieldSize(connInfo.length);
  if (chanInfo !== undefined) size += fieldSize(chanInfo.length);
  return { user, client, connInfo, chanInfo, size };
}

function writeInfo(w: Writer, e: EncodedInfo): void {
  if (e.user.length > 0) w.bytes(0x0a, e.user);
  if (e.client.length > 0) w.bytes(0x12, e.client);
  if (e.connInfo !== undefined) w.bytes(0x1a, e.connInfo);
  if (e.chanInfo !== undefined) w.bytes(0x22, e.chanInfo);
}

/** ClientInfo protobuf (presence hash values, join/leave payloads). */
export function encodeClientInfo(info: ClientInfo): Uint8Array {
  const e = prepareInfo(info);
  const w = new Writer(e.size);
  writeInfo(w, e);
  return w.buf;
}

/**
 * Publication protobuf: data (4), info (5), offset (6), tags (7), delta (8), time (9). On Redis offsets travel in
 * the stream id / prefix (`offset` stays 0); on NATS a position another store assigned travels in `offset`. `delta` marks a publication made with delta on a channel without history: the flag rides in the
 * Publication there, as centrifuge's brokers carry it, and the receiving node clears it before delivery.
 */
export function encodePublication(
  data: Uint8Array,
  info: ClientInfo | undefined,
  tags: Readonly<Record<string, string>> | undefined,
  timeMs: number,
  delta = false,
  offset = 0,
): Uint8Array {
  let size = data.length > 0 ? fieldSize(data.length) : 0;
  const ei = info !== undefined ? prepareInfo(info) : undefined;
  if (ei !== undefined) size += fieldSize(ei.size);
  if (offset > 0) size += 1 + varintSize(offset);
  const tagPairs: Uint8Array[] = [];
  if (tags !== undefined) {
    for (const k of Object.keys(tags)) {
      const kb = enc.encode(k);
      const vb = enc.encode(tags[k] ?? '');
      tagPairs.push(kb, vb);
      let entry = 0;
      if (kb.length > 0) entry += fieldSize(kb.length);
      if (vb.length > 0) entry += fieldSize(vb.length);
      size += fieldSize(entry);
    }
  }
  if (delta) size += 2;
  if (timeMs > 0) size += 1 + varintSize(timeMs);
  const w = new Writer(size);
  if (data.length > 0) w.bytes(0x22, data);
  if (ei !== undefined) {
    w.buf[w.pos++] = 0x2a;
    w.varint(ei.size);
    writeInfo(w, ei);
  }
  if (offset > 0) {
    w.buf[w.pos++] = 0x30;
    w.varint(offset);
  }
  for (let i = 0; i < tagPairs.length; i += 2) {
    const kb = tagPairs[i]!;
    const vb = tagPairs[i + 1]!;
    const entry = (kb.length > 0 ? fieldSize(kb.length) : 0) + (vb.length > 0 ? fieldSize(vb.length) : 0);
    w.buf[w.pos++] = 0x3a;
    w.varint(entry);
    if (kb.length > 0) w.bytes(0x0a, kb);
    if (vb.length > 0) w.bytes(0x12, vb);
  }
  if (delta) {
    w.buf[w.pos++] = 0x40;
    w.buf[w.pos++] = 1;
  }
  if (timeMs > 0) {
    w.buf[w.pos++] = 0x48;
    w.varint(timeMs);
  }
  return w.buf;
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

export class WireError extends Error {
  override readonly name = 'WireError';
}

export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new WireError('varint too long');
  }
  /** Returns [start, end) of a length-delimited field. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new WireError('truncated field');
    this.pos = end;
    return [start, end];
  }
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.span();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new WireError('truncated field');
  }
}

function decodeInfoRange(buf: Uint8Array, start: number, end: number): ClientInfo {
  const r = new Reader(buf, start, end);
  const info: ClientInfo = { user: '', client: '' };
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (wt === 2 && field >= 1 && field <= 4) {
      const [s, e] = r.span();
      if (field === 1) info.user = dec.decode(buf.subarray(s, e));
      else if (field === 2) info.client = dec.decode(buf.subarray(s, e));
      else if (field === 3) info.conn_info = buf.subarray(s, e);
      else info.chan_info = buf.subarray(s, e);
    } else {
      r.skip(wt);
    }
  }
  return info;
}

export function decodeClientInfo(buf: Uint8Array): ClientInfo {
  return decodeInfoRange(buf, 0, buf.length);
}

export interface DecodedPublication {
  pub: Publication;
  /** Offset and epoch carried inside the protobuf (map-broker fan-out); 0 / '' when absent. */
  offset: number;
  epoch: string;
  /** Publication.time (unix ms) as the publisher set it; 0 when absent. Not delivered to clients. */
  timeMs: number;
  /** Publication.prev_data (15): the previous data, as centrifuge's map-broker fan-out carries it; not delivered. */
  prevData?: Uint8Array;
}

/** Decodes a Publication; `data` and byte fields are views into `buf`. Fields Gyre does not carry are skipped. */
export function decodePublication(buf: Uint8Array, start = 0, end = buf.length): DecodedPublication {
  const r = new Reader(buf, start, end);
  const pub: Publication = { data: new Uint8Array(0) };
  let offset = 0;
  let epoch = '';
  let timeMs = 0;
  let prevData: Uint8Array | undefined;
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (field === 4 && wt === 2) {
      const [s, e] = r.span();
      pub.data = buf.subarray(s, e);
    } else if (field === 5 && wt === 2) {
      const [s, e] = r.span();
      pub.info = decodeInfoRange(buf, s, e);
    } else if (field === 6 && wt === 0) {
      offset = r.varint();
    } else if (field === 7 && wt === 2) {
      const [s, e] = r.span();
      const [k, v] = decodeTag(buf, s, e);
      pub.tags ??= {};
      if (k === '__proto__') Object.defineProperty(pub.tags, k, { value: v, enumerable: true, writable: true });
      else pub.tags[k] = v;
    } else if (field === 9 && wt === 0) {
      timeMs = r.varint();
    } else if (field === 14 && wt === 2) {
      const [s, e] = r.span();
      epoch = dec.decode(buf.subarray(s, e));
    } else if (field === 15 && wt === 2) {
      const [s, e] = r.span();
      prevData = buf.subarray(s, e);
    } else {
      r.skip(wt);
    }
  }
  return prevData !== undefined && prevData.length > 0 ? { pub, offset, epoch, timeMs, prevData } : { pub, offset, epoch, timeMs };
}

function decodeTag(buf: Uint8Array, start: number, end: number): [string, string] {
  const r = new Reader(buf, start, end);
  let k = '';
  let v = '';
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (wt === 2 && (field === 1 || field === 2)) {
      const [s, e] = r.span();
      if (field === 1) k = dec.decode(buf.subarray(s, e));
      else v = dec.decode(buf.subarray(s, e));
    } else {
      r.skip(wt);
    }
  }
  return [k, v];
}
