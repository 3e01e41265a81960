// Engine seam (docs/style.md §3): the core talks to engines only through these interfaces, so Redis and NATS
// engines, several nodes and worker processes come next without reworking the core.
import type { ClientInfo, Publication, StreamPosition } from '../protocol/types.js';

export interface BrokerEventHandler {
  /**
   * A publication for a channel this node subscribed to. `position` is set when the channel has history.
   * `publishedAtMs` is the publication's time (unix ms) as the publishing node set it, when the broker carries
   * it; the hub reports the PUB/SUB lag from it (centrifugo_node_pub_sub_lag_seconds). `prev` is the channel's
   * previous publication, given for publications made with `useDelta` when history had one (delta compression).
   */
  onPublication(
    channel: string,
    pub: Publication,
    position: StreamPosition | undefined,
    publishedAtMs?: number,
    prev?: Publication,
  ): void;
  onJoin(channel: string, info: ClientInfo): void;
  onLeave(channel: string, info: ClientInfo): void;
  /**
   * PUB/SUB delivery for these channels was interrupted and is restored (e.g. Redis restarted or failed over):
   * publications sent meanwhile may be missing, so subscribers that track a stream position must recover.
   */
  onSubscriptionLost?(channels: readonly string[]): void;
  /**
   * An in-process broker (memory) got a publication, join or leave for a channel this node has not subscribed to:
   * nothing to deliver, but the node received it (Centrifugo counts it in node_messages_received_count).
   * Brokers that only receive what the node subscribed to (Redis, NATS) never call it.
   */
  onUnsubscribed?(type: 'publication' | 'join' | 'leave', channel: string): void;
}

export interface PublishOptions {
  /** History size and TTL; both > 0 ⇒ the publication is appended to the channel stream. */
  historySize: number;
  historyTtlMs: number;
  historyMetaTtlMs: number;
  /** Publisher info (client publications only). */
  clientInfo?: ClientInfo;
  tags?: Record<string, string>;
  idempotencyKey?: string;
  /** Suppress history append even when the channel has history. */
  skipHistory?: boolean;
  /** Delta compression: hand the previous publication of the stream to the handler along with this one. */
  useDelta?: boolean;
}

export interface PublishResult {
  /** Stream position assigned to the publication (absent for channels without history). */
  position?: StreamPosition;
  /** True when an idempotency key matched an earlier publication (nothing was published again). */
  suppressed: boolean;
}

export interface EngineCapabilities {
  readonly history: boolean;
  readonly atomicHistory: boolean;
  readonly presence: boolean;
}

/** PUB/SUB between nodes. History append + fan-out are atomic per channel (centrifuge broker.go rule). */
export interface Broker {
  readonly capabilities: EngineCapabilities;
  start(handler: BrokerEventHandler): Promise<void>;
  /**
   * Per node, not per client: the hub calls these on the first and last local subscriber, batched (many channels
   * per call). `subscribe` resolves only once the broker confirmed every channel (publications flow from then
   * on). Both are idempotent per channel. Partial failure: reject with PartialSubscribeError.
   */
  subscribe(channels: readonly string[]): Promise<void>;
  unsubscribe(channels: readonly string[]): Promise<void>;
  publish(channel: string, data: Uint8Array, opts: PublishOptions): Promise<PublishResult>;
  publishJoin(channel: string, info: ClientInfo): Promise<void>;
  publishLeave(channel: string, info: ClientInfo): Promise<void>;
  close(): Promise<void>;
}

export interface HistoryReadOptions {
  /** Read publications after this position (forward) or before it (reverse). */
  since?: StreamPosition;
  /** -1 = all, 0 = position only. */
  limit: number;
  reverse?: boolean;
  /** Meta TTL to refresh/create the stream with (a read creates the stream, and its epoch, when absent). */
  metaTtlMs: number;
}

export interface HistoryReadResult {
  publications: Publication[];
  /** Current top of the stream. */
  position: StreamPosition;
}

export interface HistoryStore {
  append(
    channel: string,
    pub: Publication,
    opts: { size: number; ttlMs: number; metaTtlMs: number; idempotencyKey?: string },
  ): Promise<{ position: StreamPosition; suppressed: boolean }>;
  /**
   * Reads history. If `since.epoch` is non-empty and differs from the stream's epoch the store throws
   * `UnrecoverablePositionError`.
   */
  read(channel: string, opts: HistoryReadOptions): Promise<HistoryReadResult>;
  /** Drops stored publications but keeps the top offset and epoch. */
  remove(channel: string): Promise<void>;
}

export class UnrecoverablePositionError extends Error {
  override readonly name = 'UnrecoverablePositionError';
  constructor(readonly position: StreamPosition) {
    super('unrecoverable position');
  }
}

export interface PresenceStats {
  numClients: number;
  numUsers: number;
}

export interface PresenceManager {
  /** Upsert + refresh expiry. */
  add(channel: string, clientId: string, info: ClientInfo): Promise<void>;
  remove(channel: string, clientId: string, userId: string): Promise<void>;
  get(channel: string): Promise<Map<string, ClientInfo>>;
  stats(channel: string): Promise<PresenceStats>;
  close(): Promise<void>;
}

/**
 * Cluster control plane transport. Engines only move opaque bytes; the messages (centrifuge's control protobuf,
 * src/core/control/) are encoded and understood by the core. Redis and NATS carry them between nodes; the memory
 * engine's controller is a loopback to this node only, so one code path serves one node and many.
 */
export interface Controller {
  /**
   * Called once, before any publishControl. `nodeId` is this node's id: a controller listens on the broadcast
   * channel and on this node's own channel (directed messages). `onControl` must not throw.
   */
  start(nodeId: string, onControl: (data: Uint8Array) => void): Promise<void>;
  /**
   * Sends `data` to every node, this one included (the core ignores its own messages, as centrifuge does), or
   * with `toNodeId` to that node only. Resolves once the bus accepted the message; rejects when it cannot.
   */
  publishControl(data: Uint8Array, toNodeId?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Rejection of `Broker.subscribe`/`unsubscribe` when only some channels failed (e.g. one Redis shard is down): the
 * channels in `failed` are not (un)subscribed, every other channel of the call is. Any other rejection means the
 * whole call failed.
 */
export class PartialSubscribeError extends Error {
  override readonly name = 'PartialSubscribeError';
  constructor(
    readonly failed: readonly string[],
    readonly reason: unknown,
  ) {
    super(`broker (un)subscribe failed for ${failed.length} channel(s)`);
  }
}

/** Engine state for /health: `ok` false while a backing server is unreachable or PUB/SUB is not live. */
export interface EngineHealth {
  ok: boolean;
  /** Per part (e.g. per Redis shard) what is wrong; empty when ok. */
  problems: string[];
}

export interface Engine {
  readonly name: string;
  /** Optional health hook (engines without remote parts are always healthy). */
  health?(): EngineHealth;
  readonly broker: Broker;
  readonly history?: HistoryStore;
  readonly presence: PresenceManager;
  /** Always present: a single-node engine provides a loopback. */
  readonly controller: Controller;
  close(): Promise<void>;
}
