// Per-connection outbound queue (docs/protocol.md §1.9 item 7): messages enqueued during one macrotask are joined
// into frames of at most `maxMessagesPerFrame` messages and written on setImmediate; the queue (not yet
// written + the transport's own buffer) is capped in bytes, and overflow is reported once. All writers share
// one setImmediate per macrotask (a fan-out to N connections schedules one callback, not N).
import type { Codec } from '../protocol/codec.js';
import type { Transport } from '../transports/types.js';

export interface WriterOptions {
  transport: Transport;
  codec: Codec;
  /** Cap on queued bytes (pending + transport.bufferedBytes); above it ⇒ onOverflow once, then drop. */
  maxQueueBytes: number;
  onOverflow: (queuedBytes: number) => void;
  /** Default 64. */
  maxMessagesPerFrame?: number;
}

/** Pending messages up to which a writer's arrays keep their backing store after a flush. */
const KEEP_PENDING_CAPACITY = 64;

/** Writers with something pending, in the order they first enqueued; flushed by one shared setImmediate. */
let dirty: Writer[] = [];
let spareDirty: Writer[] = [];
let dirtyScheduled = false;

/**
 * Empties `list`, keeping its backing store when it held at most `keepUpTo` items: V8 frees the elements of an
 * array whose length is set to 0, so the next push allocates them again (~150 bytes for the first element). On
 * the fan-out path that was one allocation per delivery, about a third of a subscriber node's young-generation
 * garbage (BENCHMARKS.md §10.5). Larger lists (a backlog) give their memory back.
 */
function clearKeepingCapacity<T>(list: T[], keepUpTo = Infinity): void {
  if (list.length > keepUpTo) list.length = 0;
  else while (list.length > 0) list.pop();
}

function flushDirty(): void {
  dirtyScheduled = false;
  const list = dirty;
  dirty = spareDirty;
  spareDirty = list;
  for (let i = 0; i < list.length; i++) {
    const w = list[i]!;
    list[i] = undefined as unknown as Writer;
    w.runScheduled();
  }
  clearKeepingCapacity(list);
}

export class Writer {
  private readonly transport: Transport;
  private readonly codec: Codec;
  private readonly maxQueueBytes: number;
  private readonly onOverflow: (queuedBytes: number) => void;
  private readonly maxPerFrame: number;
  /**
   * Messages pending: `count` of them. A lone one is held in `single`, outside the arrays (a fan-out queues one
   * publication per connection and turn: no array to touch or empty per delivery); from the second on all
   * are in `pending`, which is swapped with `spare` on flush so neither is reallocated.
   */
  private count = 0;
  private single: Uint8Array | null = null;
  private pending: Uint8Array[] = [];
  private spare: Uint8Array[] = [];
  private pendingBytes = 0;
  /** True while this writer is in the shared dirty list. */
  private scheduled = false;
  private overflowed = false;
  private closed = false;
  private flushing = false;

  constructor(opts: WriterOptions) {
    this.transport = opts.transport;
    this.codec = opts.codec;
    this.maxQueueBytes = opts.maxQueueBytes;
    this.onOverflow = opts.onOverflow;
    this.maxPerFrame = Math.max(1, opts.maxMessagesPerFrame ?? 64);
  }

  /** Called by the shared scheduler. */
  runScheduled(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    this.flush();
  }

  /** Bytes not yet handed to the kernel: pending here plus the transport's buffer. */
  get queuedBytes(): number {
    return this.pendingBytes + this.transport.bufferedBytes;
  }

  /** True once the byte cap was exceeded (everything after is dropped). */
  get isOverflowed(): boolean {
    return this.overflowed;
  }

  enqueue(msg: Uint8Array): void {
    if (this.closed || this.overflowed) return;
    const queued = this.pendingBytes + this.transport.bufferedBytes + msg.byteLength;
    if (queued > this.maxQueueBytes) {
      this.overflowed = true;
      this.drop();
      this.onOverflow(queued);
      return;
    }
    if (this.count++ === 0) {
      this.single = msg;
    } else {
      if (this.count === 2) {
        this.pending.push(this.single!);
        this.single = null;
      }
      this.pending.push(msg);
    }
    this.pendingBytes += msg.byteLength;
    if (!this.scheduled) {
      this.scheduled = true;
      dirty.push(this);
      if (!dirtyScheduled) {
        dirtyScheduled = true;
        setImmediate(flushDirty);
      }
    }
  }

  /** Writes everything pending now, synchronously (e.g. after a batch of replies). */
  flush(): void {
    this.writePending(this.maxPerFrame);
  }

  /**
   * Writes everything pending now, one message per frame (handed to the kernel together where the transport
   * corks). For replies: centrifuge-js 5.7.4 under Node's `ws` handles every frame of one socket read in the
   * same tick, and then a frame's second message can reach the application after the next frame's first
   * (docs/deploy.md §5). A subscribe reply behind the connect reply was overtaken that way by the next
   * publication push; frames of one message each are handled in order.
   */
  flushEach(): void {
    this.writePending(1);
  }

  private writePending(max: number): void {
    // A re-entrant flush (from inside transport.write) leaves its messages to the scheduled flush.
    if (this.flushing) return;
    // Still listed in the shared queue: that entry becomes a no-op.
    this.scheduled = false;
    const n = this.count;
    if (n === 0 || this.closed) return;
    // Reset before writing: the transport may enqueue re-entrantly.
    this.count = 0;
    this.pendingBytes = 0;
    const t = this.transport;
    if (n === 1) {
      const one = this.single!;
      this.single = null;
      this.flushing = true;
      try {
        t.write(this.codec.frameOne(one));
      } finally {
        this.flushing = false;
      }
      return;
    }
    const batch = this.pending;
    this.pending = this.spare;
    this.spare = batch;
    this.flushing = true;
    const corked = n > max && t.cork !== undefined;
    if (corked) t.cork?.();
    try {
      if (n <= max) {
        t.write(this.codec.joinFrames(batch));
      } else {
        for (let i = 0; i < n; i += max) t.write(this.codec.joinFrames(batch.slice(i, i + max)));
      }
    } finally {
      if (corked) t.uncork?.();
      this.flushing = false;
      clearKeepingCapacity(batch, KEEP_PENDING_CAPACITY);
    }
  }

  /** Cancels pending work and drops queued messages. Idempotent. */
  close(): void {
    this.closed = true;
    this.drop();
  }

  private drop(): void {
    this.scheduled = false;
    this.count = 0;
    this.single = null;
    this.pending.length = 0;
    this.pendingBytes = 0;
  }
}
