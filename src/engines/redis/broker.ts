// The Redis broker: publications, joins and leaves over Redis PUB/SUB on `<prefix>.client.<channel>`, framed as
// centrifuge frames them (./wire.ts), so Gyre and Centrifugo nodes on one Redis deliver each other's
// messages. A publish to a channel with history is one Lua script (append + publish), which keeps offsets and
// delivery order equal per channel. Also the HistoryStore (./history.ts). Node-level subscriptions are per
// shard PUB/SUB connection, batched; after a PUB/SUB interruption the handler learns which channels may have
// missed publications.
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
import { PartialSubscribeError } from '../types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import { redisMetrics } from '../../metrics/registry.js';
import { countRedisPubSubError } from '../../metrics/observe.js';
import { IDEMPOTENT_RESULT_TTL_S, RedisHistory } from './history.js';
import { toNumber } from './reply.js';
import { publishIdempotent, runScript } from './scripts.js';
import type { RedisShard, RedisShards } from './shards.js';
import { encodePublication, framePresenceEvent, parsePush, WireError } from './wire.js';

export class RedisBroker implements Broker, HistoryStore {
  readonly capabilities: EngineCapabilities = { history: true, atomicHistory: true, presence: true };
  private handler: BrokerEventHandler | undefined = undefined;
  private readonly history: RedisHistory;

  constructor(
    private readonly shards: RedisShards,
    newEpoch?: () => string,
  ) {
    this.history = new RedisHistory(shards, newEpoch);
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    await this.shards.start();
  }

  /** Subscribes per shard in parallel; when some shards fail, rejects with PartialSubscribeError naming them. */
  async subscribe(channels: readonly string[]): Promise<void> {
    if (channels.length === 0) return;
    const groups = [...this.shards.group(channels)];
    const results = await Promise.allSettled(
      groups.map(([shard, chs]) => shard.pubsub.subscribe(chs.map((c) => shard.keys.pubsub(c)))),
    );
    const failed: string[] = [];
    let reason: unknown;
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.status === 'rejected') {
        failed.push(...groups[i]![1]);
        reason ??= r.reason;
      }
    }
    if (failed.length === 0) return;
    if (failed.length === channels.length) throw reason instanceof Error ? reason : new Error(String(reason));
    throw new PartialSubscribeError(failed, reason);
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    if (channels.length === 0) return;
    const groups = this.shards.group(channels);
    await Promise.all(
      [...groups].map(([shard, chs]) => shard.pubsub.unsubscribe(chs.map((c) => shard.keys.pubsub(c)))),
    );
  }

  async publish(channel: string, data: Uint8Array, opts: PublishOptions): Promise<PublishResult> {
    const shard = this.shards.of(channel);
    const withHistory = opts.historySize > 0 && opts.historyTtlMs > 0 && opts.skipHistory !== true;
    const useDelta = opts.useDelta === true;
    // Without history the delta flag rides in the Publication (there is no previous one to send along).
    const payload = encodePublication(data, opts.clientInfo, opts.tags, Date.now(), useDelta && !withHistory);
    // A commands-only shard (the redisnats broker) stores history and idempotency results but publishes nothing.
    const pubsubChannel = shard.commandsOnly ? '' : shard.keys.pubsub(channel);
    const key = opts.idempotencyKey !== undefined && opts.idempotencyKey !== '' ? opts.idempotencyKey : undefined;
    if (withHistory) {
      const r = await this.history.appendRaw(shard, channel, {
        payload,
        useDelta,
        size: opts.historySize,
        ttlMs: opts.historyTtlMs,
        metaTtlMs: opts.historyMetaTtlMs,
        idempotencyKey: key,
        pubsubChannel,
      });
      return { position: r.position, suppressed: r.suppressed };
    }
    if (key !== undefined) {
      const reply = await shard.run('publish_idempotent', (c) =>
        runScript(c, publishIdempotent, [shard.keys.result(channel, key)], [payload, pubsubChannel, IDEMPOTENT_RESULT_TTL_S]),
      );
      return { suppressed: toNumber(reply) === 1 };
    }
    if (!shard.commandsOnly) await shard.publish('publish', pubsubChannel, payload, shard.keys.stream(channel));
    return { suppressed: false };
  }

  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return this.publishPresence(channel, 'join', info);
  }

  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return this.publishPresence(channel, 'leave', info);
  }

  private async publishPresence(channel: string, kind: 'join' | 'leave', info: ClientInfo): Promise<void> {
    const shard = this.shards.of(channel);
    if (shard.commandsOnly) return;
    const frame = framePresenceEvent(kind, info);
    await shard.publish(kind, shard.keys.pubsub(channel), frame, shard.keys.stream(channel));
  }

  // ---- HistoryStore

  append(
    channel: string,
    pub: Publication,
    opts: { size: number; ttlMs: number; metaTtlMs: number; idempotencyKey?: string },
  ): Promise<{ position: StreamPosition; suppressed: boolean }> {
    return this.history.append(channel, pub, opts);
  }

  read(channel: string, opts: HistoryReadOptions): Promise<HistoryReadResult> {
    return this.history.read(channel, opts);
  }

  remove(channel: string): Promise<void> {
    return this.history.remove(channel);
  }

  // ---- PUB/SUB input (wired by ./index.ts)

  /** A message on a client channel of `shard`; returns false when `redisChannel` is not one. */
  handleMessage(shard: RedisShard, redisChannel: string, payload: Buffer): boolean {
    const channel = shard.keys.channelOf(redisChannel);
    if (channel === undefined) return false;
    const h = this.handler;
    if (h === undefined) return true;
    let msg;
    try {
      msg = parsePush(payload);
    } catch (err) {
      if (!(err instanceof WireError) && !(err instanceof RangeError)) throw err;
      redisMetrics.droppedMessages.inc({ reason: 'malformed' });
      // Centrifugo counts a client message it cannot handle as an error; its `dropped` counts buffer overflows.
      countRedisPubSubError('handle_client_message');
      return true;
    }
    if (msg.kind === 'publication') {
      const { pub, timeMs } = msg.decoded;
      if (msg.position !== undefined) pub.offset = msg.position.offset;
      h.onPublication(channel, pub, msg.position, timeMs > 0 ? timeMs : undefined, msg.prev);
    } else if (msg.kind === 'join') {
      h.onJoin(channel, msg.info);
    } else {
      h.onLeave(channel, msg.info);
    }
    return true;
  }

  /** PUB/SUB of `shard` was interrupted and is back: its client channels may have missed publications. */
  handleRestored(shard: RedisShard, redisChannels: readonly string[]): void {
    const channels: string[] = [];
    for (const name of redisChannels) {
      const ch = shard.keys.channelOf(name);
      if (ch !== undefined) channels.push(ch);
    }
    if (channels.length > 0) this.handler?.onSubscriptionLost?.(channels);
  }

  close(): Promise<void> {
    this.handler = undefined;
    return Promise.resolve();
  }
}
