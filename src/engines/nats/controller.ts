// The cluster control plane over NATS, on Centrifugo's subjects: every node subscribes `{prefix}.control` and its
// own `{prefix}.node.{id}`. The bytes are the control protobuf the core encodes; this file only moves them.
import type { Subscription } from '@nats-io/transport-node';
import type { Controller } from '../types.js';
import type { NatsLink } from './connection.js';

export class NatsController implements Controller {
  private onControl: ((data: Uint8Array) => void) | undefined = undefined;
  private readonly subs: Subscription[] = [];

  constructor(
    private readonly link: NatsLink,
    private readonly prefix: string,
  ) {}

  async start(nodeId: string, onControl: (data: Uint8Array) => void): Promise<void> {
    this.onControl = onControl;
    const nc = await this.link.open();
    for (const subject of [`${this.prefix}.control`, `${this.prefix}.node.${nodeId}`]) {
      this.subs.push(
        nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err === null) this.onControl?.(msg.data);
          },
        }),
      );
    }
    await nc.flush();
  }

  publishControl(data: Uint8Array, toNodeId?: string): Promise<void> {
    const subject = toNodeId !== undefined && toNodeId !== '' ? `${this.prefix}.node.${toNodeId}` : `${this.prefix}.control`;
    try {
      this.link.publish(subject, data);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): Promise<void> {
    this.onControl = undefined;
    for (const s of this.subs) if (!s.isClosed()) s.unsubscribe();
    this.subs.length = 0;
    return Promise.resolve();
  }
}
