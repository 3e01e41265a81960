// Public surface of the protocol package: codecFor() plus the wire types, codes and errors.
import type { Codec } from './codec.js';
import { JsonCodec } from './codec-json.js';
import { ProtobufCodec } from './codec-protobuf.js';
import type { ProtocolFormat } from './types.js';

const codecs: { readonly [F in ProtocolFormat]: Codec } = {
  json: new JsonCodec(),
  protobuf: new ProtobufCodec(),
};

/** The shared codec for a format (stateless from the caller's view; one instance per format). */
export function codecFor(format: ProtocolFormat): Codec {
  return codecs[format];
}

export type { Codec, DecodeResult } from './codec.js';
export { JsonCodec, bareJsonPush } from './codec-json.js';
export { ProtobufCodec } from './codec-protobuf.js';
export {
  concatBytes,
  encodeVarint,
  joinDelimited,
  joinNewline,
  readVarint,
  splitDelimited,
  varintSize,
  writeVarint,
  type VarintCursor,
} from './framing.js';
export * from './types.js';
export * from './codes.js';
export * from './errors.js';
