// Recovery and positioning rules (docs/protocol.md §5.2–5.4) as pure functions: did a subscribe recover, which
// publications does the client get, and what to do with a publication arriving on a positioned subscription.
import type { Publication, StreamPosition } from '../protocol/types.js';

/** The client's last known position (request `offset`/`epoch`; 0 and '' when absent). */
export interface RecoveryRequest {
  offset: number;
  epoch: string;
}

/** A history read: publications and the current top of the stream. */
export interface RecoveryRead {
  publications: Publication[];
  position: StreamPosition;
}

export interface RecoveryOutcome {
  recovered: boolean;
  /** Publications to send with the subscribe result (empty on failure). */
  publications: Publication[];
}

/**
 * Stream mode (§5.3 step 2). `read` holds publications with offsets > req.offset, oldest first, possibly cut
 * by the recovery limit. Recovered iff the epoch matches (or the client sent none) and the whole gap
 * (req.offset, top] is present: no publications with top == req.offset, or first == req.offset + 1 and
 * last == top.
 */
export function streamRecovery(req: RecoveryRequest, read: RecoveryRead): RecoveryOutcome {
  const { publications: pubs, position } = read;
  if (req.epoch !== '' && req.epoch !== position.epoch) return { recovered: false, publications: [] };
  if (pubs.length === 0) return { recovered: position.offset === req.offset, publications: [] };
  const first = pubs[0]?.offset;
  const last = pubs[pubs.length - 1]?.offset;
  if (first === req.offset + 1 && last === position.offset) return { recovered: true, publications: pubs };
  return { recovered: false, publications: [] };
}

/**
 * Cache mode (§5.4). `read` is the latest publication only (limit 1, reverse). Epoch mismatch is not an error:
 * - latest stored and at the top ⇒ recovered, with it unless the client already is exactly at that position
 *   (req.offset > 0, == top, same epoch);
 * - nothing stored ⇒ recovered only if the client already is at the top of the same epoch;
 * - otherwise not recovered.
 */
export function cacheRecovery(req: RecoveryRequest, read: RecoveryRead): RecoveryOutcome {
  const { position } = read;
  const latest = read.publications[0];
  const atTop = req.offset === position.offset && req.epoch === position.epoch;
  if (latest !== undefined && latest.offset === position.offset) {
    return { recovered: true, publications: req.offset > 0 && atTop ? [] : [latest] };
  }
  if (latest === undefined) return { recovered: atTop, publications: [] };
  return { recovered: false, publications: [] };
}

/**
 * Merges publications buffered from PUB/SUB while the subscribe was in flight into the recovered list
 * (§5.3 step 3): buffered ones at or below the last recovered offset (or `fromOffset`, the client's
 * position, when nothing was recovered) are duplicates and dropped; the rest must continue the sequence
 * without a gap. Returns the merged ascending list, or null when it cannot be made contiguous (the caller
 * then reports insufficient state, 3010).
 */
export function mergeRecovered(
  recovered: readonly Publication[],
  buffered: readonly Publication[],
  fromOffset?: number,
): Publication[] | null {
  const out: Publication[] = [];
  let last: number | undefined = fromOffset;
  const sorted = buffered.length > 1 ? [...buffered].sort(byOffset) : buffered;
  for (const list of [recovered, sorted]) {
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as Publication;
      const off = p.offset;
      if (off === undefined) return null;
      if (last !== undefined) {
        if (off <= last) continue;
        if (off !== last + 1) return null;
      }
      out.push(p);
      last = off;
    }
  }
  return out;
}

function byOffset(a: Publication, b: Publication): number {
  return (a.offset ?? 0) - (b.offset ?? 0);
}

export type PositionVerdict = 'deliver' | 'drop' | 'insufficient';

/**
 * A publication arriving on a positioned subscription (§5.2):
 * - a different epoch ⇒ insufficient, except when the current epoch is '' (the stream did not exist at
 *   subscribe time): then the publication's epoch is adopted and the offset rules apply; the caller stores
 *   the new epoch on 'deliver';
 * - offset == current + 1 ⇒ deliver (the caller sets current.offset = pubOffset);
 * - offset <= current ⇒ drop silently (duplicate or late);
 * - offset > current + 1 ⇒ insufficient (gap).
 * `pubEpoch` undefined means the broker did not tell the epoch; only offsets are compared then.
 */
export function checkPosition(current: Readonly<StreamPosition>, pubOffset: number, pubEpoch?: string): PositionVerdict {
  if (pubEpoch !== undefined && current.epoch !== '' && pubEpoch !== current.epoch) return 'insufficient';
  if (pubOffset <= current.offset) return 'drop';
  if (pubOffset === current.offset + 1) return 'deliver';
  return 'insufficient';
}

/** The position to track after sending `pubs` with a result whose offset is `offset` (the larger one). */
export function trackedOffset(offset: number, pubs: readonly Publication[]): number {
  const last = pubs.length > 0 ? pubs[pubs.length - 1]?.offset : undefined;
  return last !== undefined && last > offset ? last : offset;
}

/**
 * The publication as pushed: like Centrifugo, the first publication of a stream (offset 1) carries the epoch so
 * clients learn it; later ones omit it. A copy is made only for offset 1.
 */
export function withEpoch(pub: Publication, position: StreamPosition | undefined): Publication {
  if (position === undefined || position.offset !== 1 || position.epoch === '' || pub.epoch !== undefined) return pub;
  return { ...pub, epoch: position.epoch };
}
