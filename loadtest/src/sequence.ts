// Sequence checking of delivered publications, per (client, channel) stream. Pure: no I/O, no clock.
// A stream's position is either the `seq` the generator put into the payload (known to start at 1) or the
// publication offset assigned by the server (baseline unknown: the first delivery sets it).

export interface SequenceStats {
  /** Deliveries observed. */
  received: number;
  /** Deliveries that arrived in order (exactly last + 1, or the first of a baseline-less stream). */
  inOrder: number;
  /** Number of jumps forward (each jump is one gap event). */
  gaps: number;
  /** Total sequence numbers skipped by those jumps. */
  missing: number;
  /** Deliveries whose number was not above the last one seen (repeats, or late out-of-order ones). */
  duplicates: number;
}

export function emptySequenceStats(): SequenceStats {
  return { received: 0, inOrder: 0, gaps: 0, missing: 0, duplicates: 0 };
}

export function addSequenceStats(into: SequenceStats, from: SequenceStats): void {
  into.received += from.received;
  into.inOrder += from.inOrder;
  into.gaps += from.gaps;
  into.missing += from.missing;
  into.duplicates += from.duplicates;
}

/** Outcome of one observation. */
export type SeqOutcome = 'in-order' | 'gap' | 'duplicate';

/** No delivery seen yet on a stream whose first number is unknown (offsets). */
export const SEQ_UNKNOWN = -1;

/**
 * Classifies `seq` against `last` (the highest number seen so far; 0 for payload seq streams before the
 * first delivery, SEQ_UNKNOWN for offset streams) and updates `stats`. Returns the new `last`.
 */
export function observeSeq(stats: SequenceStats, last: number, seq: number): number {
  stats.received++;
  if (last === SEQ_UNKNOWN || seq === last + 1) {
    stats.inOrder++;
    return seq;
  }
  if (seq > last + 1) {
    stats.gaps++;
    stats.missing += seq - last - 1;
    return seq;
  }
  stats.duplicates++;
  return last;
}

/** Keyed convenience wrapper (key = client + channel) for callers that track many streams in one place. */
export class SequenceTracker {
  readonly stats: SequenceStats = emptySequenceStats();
  private readonly last = new Map<string, number>();

  constructor(private readonly knownStart: boolean) {}

  observe(key: string, seq: number): SeqOutcome {
    const before = this.last.get(key) ?? (this.knownStart ? 0 : SEQ_UNKNOWN);
    const gapsBefore = this.stats.gaps;
    const dupBefore = this.stats.duplicates;
    this.last.set(key, observeSeq(this.stats, before, seq));
    if (this.stats.gaps !== gapsBefore) return 'gap';
    if (this.stats.duplicates !== dupBefore) return 'duplicate';
    return 'in-order';
  }

  /** Forgets a stream (e.g. resubscribed without recovery: the next delivery sets a new baseline). */
  reset(key: string): void {
    this.last.delete(key);
  }
}
