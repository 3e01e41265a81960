// The Codec seam: one implementation per protocol format (codec-json.ts, codec-protobuf.ts).
import type { Command, ProtocolFormat, Publication, Push, Reply } from './types.js';

/**
 * Result of decoding one transport frame. Malformed input never throws: the commands decoded before the
 * bad item are returned together with `error` set, so the session can answer them and then close with 3501.
 */
export interface DecodeResult {
  commands: Command[];
  error?: string;
}

/** Where incremental decoding of one frame stands: the byte offset of the next command. */
export interface FrameCursor {
  pos: number;
}

export interface Codec {
  readonly format: ProtocolFormat;
  /** Decode all commands of one frame (JSON: newline-delimited; protobuf: varint-length-delimited). */
  decodeCommands(frame: Uint8Array): DecodeResult;
  /**
   * The same, a few commands at a time (a large frame is answered over several event-loop turns): up to
   * `max` commands from `cursor.pos`, which is advanced. The frame is done once `cursor.pos >= frame.byteLength`;
   * an error also ends it.
   */
  decodeSome(frame: Uint8Array, cursor: FrameCursor, max: number): DecodeResult;
  /** One encoded Reply, without framing. */
  encodeReply(reply: Reply): Uint8Array;
  /** One encoded Reply carrying a push, without framing. */
  encodePush(push: Push): Uint8Array;
  /**
   * The hot path: a whole `{"push":{"channel":…,"pub":…}}` reply for one publication, encoded once and
   * shared by every subscriber. Payload bytes are spliced in, never parsed.
   */
  encodePublicationPush(channel: string, pub: Publication): Uint8Array;
  /**
   * The bare Push inside a push Reply (unidirectional transports send pushes without the Reply wrapper), as a
   * view without copying; any other message (the ping) is returned as is.
   */
  barePush(message: Uint8Array): Uint8Array;
  /** The server ping (empty Reply): JSON `{}`, protobuf zero-length message. */
  readonly pingMessage: Uint8Array;
  /** Join several encoded messages into one transport frame (JSON: '\n'-joined; protobuf: varint prefixes). */
  joinFrames(messages: readonly Uint8Array[]): Uint8Array;
  /**
   * `joinFrames([message])` without the array: the frame of a lone message (JSON: the message itself). The
   * same message framed again returns the same frame, so a fan-out frames a publication once.
   */
  frameOne(message: Uint8Array): Uint8Array;
  /** Whether `data` can be carried by this format (JSON needs valid JSON text). */
  canCarry(data: Uint8Array): boolean;
}
