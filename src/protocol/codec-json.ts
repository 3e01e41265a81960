// The JSON codec (docs/protocol.md §1.2): newline-delimited commands in, single-line JSON replies out.
// Encoded messages may be views into a shared slab (see json-writer.ts): use byteOffset/byteLength.
import type { Codec, DecodeResult, FrameCursor } from './codec.js';
import { joinNewline } from './framing.js';
import { decodeJsonCommands, decodeJsonCommandsFrom } from './json-decode.js';
import { isJsonPayload } from './json-scan.js';
import { writePublication, writePush, writeReply } from './json-encode.js';
import { JsonWriter } from './json-writer.js';
import type { Publication, Push, Reply } from './types.js';

const encoder = new TextEncoder();

const PUSH_CHANNEL = encoder.encode('{"push":{"channel":');
const PUB_KEY = encoder.encode(',"pub":');
const CLOSE_TWO = encoder.encode('}}');
/** Length of `{"push":`, the wrapper a bare (unidirectional) push does not have. */
const PUSH_WRAPPER_PREFIX = 8;
const PUSH_WRAPPER = encoder.encode('{"push":');

/** A push reply `{"push":X}` → a view of the bare push `X` (unidirectional transports), without copying. */
export function bareJsonPush(pushReply: Uint8Array): Uint8Array {
  return pushReply.subarray(PUSH_WRAPPER_PREFIX, pushReply.length - 1);
}

export class JsonCodec implements Codec {
  readonly format = 'json' as const;
  readonly pingMessage: Uint8Array = encoder.encode('{}');
  private readonly w = new JsonWriter();
  // Single-entry cache: consecutive publications usually go to the same channel.
  private lastChannel = '';
  private lastChannelBytes: Uint8Array = encoder.encode('""');

  decodeCommands(frame: Uint8Array): DecodeResult {
    return decodeJsonCommands(frame);
  }

  decodeSome(frame: Uint8Array, cursor: FrameCursor, max: number): DecodeResult {
    return decodeJsonCommandsFrom(frame, cursor, max);
  }

  encodeReply(reply: Reply): Uint8Array {
    const w = this.w;
    w.reset();
    writeReply(w, reply);
    return w.finish();
  }

  encodePush(push: Push): Uint8Array {
    const w = this.w;
    w.reset();
    w.open();
    w.field('push');
    writePush(w, push);
    w.close();
    return w.finish();
  }

  encodePublicationPush(channel: string, pub: Publication): Uint8Array {
    if (channel === '') return this.encodePush({ channel, pub });
    if (channel !== this.lastChannel) {
      this.lastChannelBytes = encoder.encode(JSON.stringify(channel));
      this.lastChannel = channel;
    }
    const w = this.w;
    w.reset();
    w.bytes(PUSH_CHANNEL);
    w.bytes(this.lastChannelBytes);
    w.bytes(PUB_KEY);
    writePublication(w, pub);
    w.bytes(CLOSE_TWO);
    return w.finish();
  }

  barePush(message: Uint8Array): Uint8Array {
    if (message.length <= PUSH_WRAPPER_PREFIX + 1) return message;
    for (let i = 0; i < PUSH_WRAPPER_PREFIX; i++) if (message[i] !== PUSH_WRAPPER[i]) return message;
    return bareJsonPush(message);
  }

  joinFrames(messages: readonly Uint8Array[]): Uint8Array {
    return joinNewline(messages);
  }

  frameOne(message: Uint8Array): Uint8Array {
    return message;
  }

  /**
   * Valid JSON text (strict UTF-8, no BOM). Empty data is carried by omitting the field. Decided once per
   * payload (json-scan.ts isJsonPayload): payloads cut from JSON input are known at ingress.
   */
  canCarry(data: Uint8Array): boolean {
    return isJsonPayload(data);
  }
}
