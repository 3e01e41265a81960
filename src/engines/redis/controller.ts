// The cluster control plane over Redis, as centrifuge runs it: every shard's PUB/SUB connection subscribes the
// cluster-wide `<prefix>.control` channel and this node's `<prefix>.node.<id>`. Messages are published on the
// first shard (Centrifugo picks one round-robin; both listen on all, and one shard keeps a sender's order).
// The bytes are the control protobuf the core encodes; this file only moves them.
import type { Controller } from '../types.js';
import type { RedisShard, RedisShards } from './shards.js';

/** Channel name whose slot carries every control message on a Redis Cluster (used only to route, never stored). */
const CONTROL_ROUTE = '__gyre_control';

export class RedisController implements Controller {
  private onControl: ((data: Uint8Array) => void) | undefined = undefined;
  private nodeChannel = '';

  constructor(private readonly shards: RedisShards) {}

  /** Subscribes the control channel and this node's channel on every shard. */
  async start(nodeId: string, onControl: (data: Uint8Array) => void): Promise<void> {
    this.onControl = onControl;
    await this.shards.start();
    await Promise.all(
      this.shards.list.map((s) => {
        this.nodeChannel = s.keys.node(nodeId);
        return s.pubsub.subscribeFixed([s.keys.control, this.nodeChannel]);
      }),
    );
  }

  async publishControl(data: Uint8Array, toNodeId?: string): Promise<void> {
    const shard = this.shards.controlShard();
    const channel = toNodeId !== undefined && toNodeId !== '' ? shard.keys.node(toNodeId) : shard.keys.control;
    // One routing key for every control message, so broadcasts and directed ones leave from one Cluster node.
    await shard.publish('publish_control', channel, data, shard.keys.stream(CONTROL_ROUTE));
  }

  /** A message on a control or node channel of `shard`; returns false when `channel` is neither. */
  handleMessage(shard: RedisShard, channel: string, payload: Buffer): boolean {
    if (channel !== shard.keys.control && channel !== this.nodeChannel) return false;
    this.onControl?.(payload);
    return true;
  }

  close(): Promise<void> {
    this.onControl = undefined;
    return Promise.resolve();
  }
}
