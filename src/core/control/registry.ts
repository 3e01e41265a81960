// The nodes this node knows, from their heartbeats: a node is live until it says it shuts down or has been silent
// for longer than `maxDelayMs` (centrifuge: 2 heartbeat intervals + 1 s). This node is always in the list.
import type { NodeInfoMessage } from './messages.js';

interface Entry {
  info: NodeInfoMessage;
  seenAt: number;
}

export class NodeRegistry {
  private readonly nodes = new Map<string, Entry>();

  constructor(
    private readonly selfUid: string,
    private readonly maxDelayMs: number,
  ) {}

  /**
   * Records a heartbeat. Returns true for a node not known before. Metrics are kept from an earlier heartbeat
   * when this one has none (they are sent only when refreshed).
   */
  add(info: NodeInfoMessage, now: number): boolean {
    const prev = this.nodes.get(info.uid);
    const next = prev !== undefined && info.metrics === undefined && prev.info.metrics !== undefined
      ? { ...info, metrics: prev.info.metrics }
      : info;
    this.nodes.set(info.uid, { info: next, seenAt: now });
    return prev === undefined;
  }

  /** Returns true when the node was known. */
  remove(uid: string): boolean {
    return this.nodes.delete(uid);
  }

  /** Drops nodes silent for too long (never this one); returns their ids. */
  clean(now: number): string[] {
    const gone: string[] = [];
    for (const [uid, e] of this.nodes) {
      if (uid !== this.selfUid && now - e.seenAt > this.maxDelayMs) {
        this.nodes.delete(uid);
        gone.push(uid);
      }
    }
    return gone;
  }

  has(uid: string): boolean {
    return this.nodes.has(uid);
  }

  ids(): string[] {
    return [...this.nodes.keys()];
  }

  list(): NodeInfoMessage[] {
    const out: NodeInfoMessage[] = [];
    for (const e of this.nodes.values()) out.push(e.info);
    return out;
  }

  get size(): number {
    return this.nodes.size;
  }
}
