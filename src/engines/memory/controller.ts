// The memory engine's control plane: a loopback to this node only (there is no other node to reach). Messages are
// handed back asynchronously, as a real bus would, so the core runs the same code path on one node and on many.
import type { Controller } from '../types.js';

export class MemoryController implements Controller {
  private nodeId = '';
  private onControl: ((data: Uint8Array) => void) | undefined = undefined;
  private closed = false;

  start(nodeId: string, onControl: (data: Uint8Array) => void): Promise<void> {
    this.nodeId = nodeId;
    this.onControl = onControl;
    return Promise.resolve();
  }

  publishControl(data: Uint8Array, toNodeId?: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('controller closed'));
    // A message for another node has nowhere to go on a single node: dropped, as a bus would drop it.
    if (toNodeId !== undefined && toNodeId !== '' && toNodeId !== this.nodeId) return Promise.resolve();
    queueMicrotask(() => {
      if (!this.closed) this.onControl?.(data);
    });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    this.onControl = undefined;
    return Promise.resolve();
  }
}
