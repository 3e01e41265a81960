// A worker's control plane transport: the primary relays control messages to every worker (this one included,
// as a bus would) or to the one worker whose node id a directed message names.
import type { Controller } from '../types.js';
import type { PrimaryLink } from './link.js';

export class PrimaryController implements Controller {
  constructor(private readonly link: PrimaryLink) {}

  async start(nodeId: string, onControl: (data: Uint8Array) => void): Promise<void> {
    this.link.events.onControl = onControl;
    await this.link.request({ k: 13, nodeId });
  }

  async publishControl(data: Uint8Array, toNodeId?: string): Promise<void> {
    await this.link.request({ k: 14, data, to: toNodeId ?? '' });
  }

  close(): Promise<void> {
    this.link.events.onControl = () => undefined;
    return Promise.resolve();
  }
}
