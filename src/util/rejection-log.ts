// Rate-limited log of refused handshakes and connects. The first refusal for a reason is logged at once, with
// its details (the Origin and the allowed list, the client's address, the code); while refusals for that
// reason keep coming, one summary line per window (10 s) gives their count and the last one's details. So a
// storm of bad tokens or foreign origins costs a line per reason per 10 s, not a line per connection.

/** The logger calls used here (a pino logger fits). */
export interface RejectionSink {
  info(obj: Record<string, unknown>, msg: string): void;
}

export type RejectionKind = 'handshake' | 'connect' | 'tls';

export const REJECTION_WINDOW_MS = 10_000;
/** Reasons are short fixed strings; this only bounds memory if some caller passed free text. */
const MAX_REASONS = 256;

interface Bucket {
  kind: RejectionKind;
  reason: string;
  /** Refusals since the last line for this reason. */
  suppressed: number;
  last: Record<string, unknown>;
}

export class RejectionLog {
  private readonly buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly sink: RejectionSink,
    readonly windowMs = REJECTION_WINDOW_MS,
    /** false: the caller drives `flush()` (tests). */
    private readonly autoFlush = true,
  ) {}

  /**
   * One refusal. Logs it now if its reason was quiet, else counts it for the window's summary. `fields` may be
   * a function: it is then called only when the line is written now, and a counted refusal keeps the last
   * details that were built (a storm of refusals then builds them once per window, not once per client).
   */
  note(kind: RejectionKind, reason: string, fields: Record<string, unknown> | (() => Record<string, unknown>)): void {
    const key = `${kind}\u0000${reason}`;
    const b = this.buckets.get(key);
    if (b !== undefined) {
      b.suppressed++;
      if (typeof fields !== 'function') b.last = fields;
      return;
    }
    if (this.buckets.size >= MAX_REASONS) return;
    const built = typeof fields === 'function' ? fields() : fields;
    this.buckets.set(key, { kind, reason, suppressed: 0, last: built });
    this.sink.info({ ...built, kind, reason }, `${kind} rejected: ${reason}`);
    if (this.autoFlush && this.timer === undefined) {
      this.timer = setInterval(() => this.flush(), this.windowMs);
      this.timer.unref();
    }
  }

  /**
   * End of a window: one summary line per reason refused again since its last line; reasons that stayed quiet
   * are forgotten (their next refusal is logged at once).
   */
  flush(): void {
    for (const [key, b] of this.buckets) {
      if (b.suppressed === 0) {
        this.buckets.delete(key);
        continue;
      }
      const seconds = Math.round(this.windowMs / 1000);
      this.sink.info(
        { kind: b.kind, reason: b.reason, count: b.suppressed, window_s: seconds, last: b.last },
        `${b.kind} rejected: ${b.reason} (${b.suppressed} more in the last ${seconds} s)`,
      );
      b.suppressed = 0;
    }
    if (this.buckets.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Logs what is pending and stops the timer. */
  close(): void {
    this.flush();
    this.buckets.clear();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

const perSink = new WeakMap<RejectionSink, RejectionLog>();

/** The one RejectionLog of a logger (transports and the core share it without extra wiring). */
export function rejectionLogFor(sink: RejectionSink): RejectionLog {
  let log = perSink.get(sink);
  if (log === undefined) {
    log = new RejectionLog(sink);
    perSink.set(sink, log);
  }
  return log;
}
