// The redisnats broker (Centrifugo's experimental `broker.type: redisnats`): history and idempotency results in
// Redis, PUB/SUB in NATS. A publish that needs Redis (history, or an idempotency key) is first written there by the
// Redis broker on commands-only shards (stream + meta + result, no Redis PUBLISH); unless Redis reports it as a
// duplicate it then goes to NATS carrying the stream position Redis assigned. Any other publish, subscriptions,
// joins and leaves are the NATS broker's. Offsets stay in order per channel only when one node publishes to a
// channel at a time (the Redis write and the NATS publish are two steps), as Centrifugo documents for it.
import { Errors } from '../../protocol/errors.js';
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import { NatsBroker } from '../nats/broker.js';
import type { RedisBroker } from '../redis/broker.js';
import type {
  Broker,
  BrokerEventHandler,
  EngineCapabilities,
  HistoryReadOptions,
  HistoryReadResult,
  HistoryStore,
  PublishOptions,
  PublishResult,
} from '../types.js';

/** Redis's broker handler: a commands-only Redis broker receives nothing, so this is never called. */
const NO_EVENTS: BrokerEventHandler = {
  onPublication: () => undefined,
  onJoin: () => undefined,
  onLeave: () => undefined,
};

export class RedisNatsBroker implements Broker, HistoryStore {
  readonly capabilities: EngineCapabilities = { history: true, atomicHistory: false, presence: true };

  constructor(
    private readonly redis: RedisBroker,
    private readonly nats: NatsBroker,
    /** A NATS publish after the Redis write failed: the publication is in history but was not delivered live. */
    private readonly onLiveLost: (err: unknown) => void = () => undefined,
  ) {}

  async start(handler: BrokerEventHandler): Promise<void> {
    await Promise.all([this.redis.start(NO_EVENTS), this.nats.start(handler)]);
  }

  subscribe(channels: readonly string[]): Promise<void> {
    return this.nats.subscribe(channels);
  }

  unsubscribe(channels: readonly string[]): Promise<void> {
    return this.nats.unsubscribe(channels);
  }

  async publish(channel: string, data: Uint8Array, opts: PublishOptions): Promise<PublishResult> {
    if (!NatsBroker.supportsChannel(channel)) throw Errors.badRequest();
    const withHistory = opts.historySize > 0 && opts.historyTtlMs > 0 && opts.skipHistory !== true;
    const keyed = opts.idempotencyKey !== undefined && opts.idempotencyKey !== '';
    if (!withHistory && !keyed) return this.nats.publish(channel, data, opts);
    const r = await this.redis.publish(channel, data, opts);
    if (r.suppressed) return r;
    // As Centrifugo: the publication is stored, so the publish succeeded; a failed live send is only reported
    // (subscribers that track positions catch up from history on their next recovery).
    const live = r.position !== undefined
      ? this.nats.publishWithPosition(channel, data, opts, r.position)
      : this.nats.publish(channel, data, opts).then(() => undefined);
    await live.catch(this.onLiveLost);
    return r;
  }

  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return this.nats.publishJoin(channel, info);
  }

  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return this.nats.publishLeave(channel, info);
  }

  // ---- HistoryStore: Redis's

  append(
    channel: string,
    pub: Publication,
    opts: { size: number; ttlMs: number; metaTtlMs: number; idempotencyKey?: string },
  ): Promise<{ position: StreamPosition; suppressed: boolean }> {
    return this.redis.append(channel, pub, opts);
  }

  read(channel: string, opts: HistoryReadOptions): Promise<HistoryReadResult> {
    return this.redis.read(channel, opts);
  }

  remove(channel: string): Promise<void> {
    return this.redis.remove(channel);
  }

  async close(): Promise<void> {
    await Promise.all([this.redis.close(), this.nats.close()]);
  }
}
