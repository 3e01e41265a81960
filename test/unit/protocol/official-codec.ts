// The official client's protobuf codec (centrifuge@5.7.4 keeps it in the private `_codec` field), for comparing
// Gyre's encoding with what the real client writes and reads. Nothing connects: the client is never started.
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';

export interface OfficialCodec {
  encodeCommands(cmds: object[]): Uint8Array;
  decodeReplies(data: Uint8Array): Array<Record<string, unknown>>;
}

export const official = (new CentrifugeProtobuf('ws://127.0.0.1:9/connection/websocket', {}) as unknown as { _codec: OfficialCodec })
  ._codec;

/** A 64-bit field as protobufjs decodes it (a number or a Long) as a number. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'toNumber' in v && typeof v.toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  throw new Error(`not a number: ${String(v)}`);
}
