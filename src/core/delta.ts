// Delta compression (docs/delta.md): the frames a subscriber that negotiated `delta: "fossil"` gets. The fossil
// delta between the previous publication of the channel and the new one is computed at most once per publication
// and each frame kind is encoded at most once, whatever the number of subscribers. JSON connections get the data
// as a JSON string (full JSON text, or the delta), protobuf connections get the bytes as they are.
import { createDelta } from 'fossil-delta';
import type { Codec } from '../protocol/codec.js';
import { jsonStringOf } from '../protocol/json-string.js';
import type { Publication } from '../protocol/types.js';

/** Not computed yet (a separate marker from "computed, no useful delta"). */
const PENDING: unique symbol = Symbol('pending');

/**
 * The fossil delta from `prev` to `next`, or undefined when it would not be smaller than `next` itself (Centrifugo
 * then sends the full data, marked as not a delta).
 */
export function fossilPatch(prev: Uint8Array, next: Uint8Array): Uint8Array | undefined {
  const patch = createDelta(prev, next);
  return patch.length < next.length ? patch : undefined;
}

/** The publication as a delta subscriber gets it in full: JSON data as a string, protobuf data unchanged. */
export function fullForDelta(pub: Publication, json: boolean): Publication {
  if (!json) return pub;
  const data = jsonStringOf(pub.data);
  return data === undefined ? pub : { ...pub, data };
}

/** `pub` as a delta from `prev` when that is smaller (and, on JSON, representable), else in full. */
function deltaOrFull(prev: Publication, pub: Publication, json: boolean): Publication {
  const patch = fossilPatch(prev.data, pub.data);
  if (patch === undefined) return fullForDelta(pub, json);
  if (!json) return { ...pub, data: patch, delta: true };
  // A copy boundary inside a multi-byte character makes the patch invalid UTF-8, which a JSON string cannot
  // carry; the full data is sent instead.
  const data = jsonStringOf(patch);
  return data === undefined ? fullForDelta(pub, json) : { ...pub, data, delta: true };
}

/**
 * Recovered publications for a delta subscriber (subscribe reply): the first in full, each next one as a delta
 * from the one before it.
 */
export function recoveredForDelta(pubs: readonly Publication[], json: boolean): Publication[] {
  const out: Publication[] = [];
  for (let i = 0; i < pubs.length; i++) {
    const pub = pubs[i]!;
    out.push(i === 0 ? fullForDelta(pub, json) : deltaOrFull(pubs[i - 1]!, pub, json));
  }
  return out;
}

/**
 * Frames of one publication for delta subscribers, each built on first use. `begin` starts a publication, `end`
 * drops the references once its fan-out is over.
 */
export class DeltaFrames {
  private channel = '';
  private pub: Publication | undefined = undefined;
  private prev: Publication | undefined = undefined;
  private patch: Uint8Array | undefined | typeof PENDING = PENDING;
  private jsonFull: Uint8Array | undefined = undefined;
  private jsonDelta: Uint8Array | undefined | typeof PENDING = PENDING;
  private pbDelta: Uint8Array | undefined = undefined;

  constructor(
    private readonly json: Codec,
    private readonly protobuf: Codec,
  ) {}

  /** `pub` as it is pushed (epoch set when due); `prev` the channel's previous publication, when known. */
  begin(channel: string, pub: Publication, prev: Publication | undefined): void {
    this.channel = channel;
    this.pub = pub;
    this.prev = prev;
    this.patch = PENDING;
    this.jsonDelta = PENDING;
    this.jsonFull = this.pbDelta = undefined;
  }

  end(): void {
    this.pub = this.prev = undefined;
    this.patch = this.jsonDelta = PENDING;
    this.jsonFull = this.pbDelta = undefined;
  }

  /**
   * The push for a delta subscriber. `useDelta`: the subscriber is known to hold the previous publication (it is
   * positioned and already got a full one); otherwise the full data goes. Undefined means the regular protobuf
   * frame (a protobuf subscriber when no delta applies). JSON callers must have checked that the data is JSON.
   */
  frame(json: boolean, useDelta: boolean): Uint8Array | undefined {
    const pub = this.pub!;
    if (useDelta && this.prev !== undefined) {
      if (this.patch === PENDING) this.patch = fossilPatch(this.prev.data, pub.data);
      const patch = this.patch;
      if (patch !== undefined) {
        if (!json) {
          this.pbDelta ??= this.protobuf.encodePublicationPush(this.channel, { ...pub, data: patch, delta: true });
          return this.pbDelta;
        }
        if (this.jsonDelta === PENDING) {
          const data = jsonStringOf(patch);
          this.jsonDelta =
            data === undefined ? undefined : this.json.encodePublicationPush(this.channel, { ...pub, data, delta: true });
        }
        if (this.jsonDelta !== undefined) return this.jsonDelta;
      }
    }
    if (!json) return undefined;
    this.jsonFull ??= this.json.encodePublicationPush(this.channel, fullForDelta(pub, true));
    return this.jsonFull;
  }
}
