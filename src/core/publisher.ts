// Publishing to a channel with its namespace's history settings. The engine's broker appends to history and
// fans out in one step (memory/redis: atomic per channel), so the publisher only maps options.
import type { ChannelOptions } from '../config/types.js';
import type { Broker, PublishResult } from '../engines/types.js';
import type { ClientInfo } from '../protocol/types.js';
import { countPublishSuppressed } from '../metrics/observe.js';

export interface PublishInput {
  options: ChannelOptions;
  clientInfo?: ClientInfo;
  tags?: Record<string, string>;
  idempotencyKey?: string;
  skipHistory?: boolean;
  /** API `delta` flag; the namespace's `delta_publish` turns it on for every publication. */
  delta?: boolean;
}

export class Publisher {
  constructor(
    private readonly broker: Broker,
    private readonly defaultMetaTtlMs: number,
  ) {}

  async publish(channel: string, data: Uint8Array, input: PublishInput): Promise<PublishResult> {
    const o = input.options;
    const hasHistory = o.history_size > 0 && o.history_ttl > 0 && input.skipHistory !== true;
    const r = await this.broker.publish(channel, data, {
      historySize: hasHistory ? o.history_size : 0,
      historyTtlMs: hasHistory ? o.history_ttl : 0,
      historyMetaTtlMs: this.metaTtl(o),
      ...(input.clientInfo !== undefined ? { clientInfo: input.clientInfo } : {}),
      ...(input.tags !== undefined ? { tags: input.tags } : {}),
      ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}),
      ...(input.skipHistory === true ? { skipHistory: true } : {}),
      ...(input.delta === true || o.delta_publish ? { useDelta: true } : {}),
    });
    if (r.suppressed) countPublishSuppressed();
    return r;
  }

  metaTtl(o: ChannelOptions): number {
    return o.history_meta_ttl > 0 ? o.history_meta_ttl : this.defaultMetaTtlMs;
  }
}
