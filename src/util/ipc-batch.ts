// Batched messages over a Node IPC channel (cluster primary ⇄ worker). Every op pushed during one event-loop turn
// travels in one IPC message, so a burst of publications or presence refreshes costs one serialisation and one
// write per turn instead of one per op. An envelope carries a tag so several users can share one channel and
// messages of others (Node's own cluster messages, prom-client's) are told apart.

/** The envelope on the wire: `{ [TAG_KEY]: tag, ops }`. */
export const TAG_KEY = 'gyre';

export interface Envelope<Op> {
  readonly gyre: string;
  readonly ops: readonly Op[];
}

export type SendFn = (message: unknown) => void;

export class BatchedSender<Op> {
  private queue: Op[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly tag: string,
    private readonly send: SendFn,
  ) {}

  push(op: Op): void {
    if (this.closed) return;
    this.queue.push(op);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends what is queued now (the scheduled flush; also callable before a close). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0 || this.closed) return;
    const ops = this.queue;
    this.queue = [];
    const envelope: Envelope<Op> = { gyre: this.tag, ops };
    this.send(envelope);
  };

  /** Drops what is queued; later pushes are ignored. */
  close(): void {
    this.closed = true;
    this.queue = [];
  }
}

/** The ops of `message` when it is an envelope with `tag`, else undefined (someone else's message). */
export function opsOf<Op>(message: unknown, tag: string): readonly Op[] | undefined {
  if (message === null || typeof message !== 'object') return undefined;
  const m = message as Partial<Envelope<Op>>;
  const ops: unknown = m.ops;
  if (m.gyre !== tag || !Array.isArray(ops)) return undefined;
  return ops as readonly Op[];
}
