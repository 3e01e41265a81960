// An in-process control bus for multi-node tests of the control plane (our own seam, like socket.io's
// cluster-adapter tests): controllers of several Node instances in one process, delivery on a later macrotask in
// send order, a crash that silences one node without a goodbye. Real multi-node runs use the Redis engine.
import type { Controller } from '../../../src/engines/types.js';

interface Member {
  nodeId: string;
  onControl: (data: Uint8Array) => void;
  alive: boolean;
}

export class InProcessBus {
  private readonly members: Member[] = [];
  /** Every message put on the bus (tests count them). */
  readonly sent: { from: string; to: string | undefined; data: Uint8Array }[] = [];

  controller(): Controller & { nodeId(): string } {
    let member: Member | undefined;
    const members = this.members;
    const sent = this.sent;
    return {
      nodeId: () => member?.nodeId ?? '',
      start(nodeId: string, onControl: (data: Uint8Array) => void): Promise<void> {
        member = { nodeId, onControl, alive: true };
        members.push(member);
        return Promise.resolve();
      },
      publishControl(data: Uint8Array, toNodeId?: string): Promise<void> {
        if (member === undefined || !member.alive) return Promise.reject(new Error('controller not running'));
        const to = toNodeId !== undefined && toNodeId !== '' ? toNodeId : undefined;
        sent.push({ from: member.nodeId, to, data });
        for (const m of members) {
          if (!m.alive || (to !== undefined && m.nodeId !== to)) continue;
          setImmediate(() => {
            if (m.alive) m.onControl(data);
          });
        }
        return Promise.resolve();
      },
      close(): Promise<void> {
        if (member !== undefined) member.alive = false;
        return Promise.resolve();
      },
    };
  }

  /** The node's process died: it neither sends nor receives from now on, and says nothing. */
  kill(nodeId: string): void {
    for (const m of this.members) if (m.nodeId === nodeId) m.alive = false;
  }

  /** Puts raw bytes on the bus as if some node sent them. */
  inject(data: Uint8Array): void {
    for (const m of this.members) {
      if (m.alive) setImmediate(() => m.alive && m.onControl(data));
    }
  }
}
