// The Redis shards of one engine: per shard a command client (pipelined per event-loop turn; Cluster-aware and
// auto-pipelined when the shard is a Redis Cluster) and a dedicated PUB/SUB connection (./pubsub.ts). Channels map to shards with centrifuge's
// consistent index (./shard-index.ts); control messages go to the first shard. Commands never wait in an offline
// queue: while a shard is down they fail at once, so a publish is refused (100) rather than delayed and lost.
import { Cluster, Redis } from 'ioredis';
import { redisMetrics, redisPending } from '../../metrics/registry.js';
import { nodeOptions, targetOptions, type HostPort, type RedisOptions, type ShardSpec } from './connection.js';
import { keyNames, type KeyNames } from './keys.js';
import { PubSubConnection } from './pubsub.js';
import { consistentIndex } from './shard-index.js';
import { publishPinned, runScript, type CommandClient } from './scripts.js';

export interface ShardEvents {
  message(shard: RedisShard, channel: string, payload: Buffer): void;
  /** PUB/SUB came back after an interruption; `channels` are the Redis channel names subscribed again. */
  restored(shard: RedisShard, channels: readonly string[]): void;
  error(shard: RedisShard, err: unknown, what: string): void;
}

export interface ShardTuning {
  /**
   * Command connections only, no PUB/SUB connection (the `redisnats` broker: Redis keeps history and idempotency
   * results, NATS carries publications and control).
   */
  commandsOnly?: boolean;
  pingIntervalMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

function backoff(times: number): number {
  return Math.min(1000, 50 * 2 ** Math.min(times, 5)) * (0.5 + Math.random() / 2);
}

export class RedisShard {
  readonly keys: KeyNames;
  readonly client: CommandClient;
  readonly pubsub: PubSubConnection;
  /** No PUB/SUB connection is opened (ShardTuning.commandsOnly). */
  readonly commandsOnly: boolean;
  private clusterCursor = 0;
  private closing = false;
  private revive: NodeJS.Timeout | undefined = undefined;
  private revivals = 0;
  /** The command connection's socket is corked until the end of this turn. */
  private corked = false;
  /** Commands sent and not yet settled, and when one last settled (or the first was sent); see watchCommands. */
  private inFlight = 0;
  private progressAt = 0;
  private watchdog: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly index: number,
    readonly spec: ShardSpec,
    prefix: string,
    events: ShardEvents,
    tuning: ShardTuning = {},
  ) {
    this.commandsOnly = tuning.commandsOnly === true;
    this.keys = keyNames(prefix, spec.mode === 'cluster');
    this.client = spec.mode === 'cluster' ? this.newCluster() : this.newNode(true);
    const pubsubOpts: ConstructorParameters<typeof PubSubConnection>[0] = {
      connect: () => (spec.mode === 'cluster' ? this.newClusterNodeConnection() : this.newNode(false)),
      label: spec.label,
      onMessage: (channel, payload) => events.message(this, channel.toString(), payload),
      onRestored: (channels) => events.restored(this, channels),
      onError: (err, what) => events.error(this, err, what),
      pingTimeoutMs: spec.ioTimeoutMs,
    };
    if (tuning.pingIntervalMs !== undefined) pubsubOpts.pingIntervalMs = tuning.pingIntervalMs;
    if (tuning.backoffBaseMs !== undefined) pubsubOpts.backoffBaseMs = tuning.backoffBaseMs;
    if (tuning.backoffMaxMs !== undefined) pubsubOpts.backoffMaxMs = tuning.backoffMaxMs;
    this.pubsub = new PubSubConnection(pubsubOpts);
    this.client.on('error', (err: unknown) => events.error(this, err, 'command connection'));
    if (this.client instanceof Redis) {
      this.keepReconnecting(this.client);
      this.watchCommands(this.client);
    }
  }

  get label(): string {
    return this.spec.label;
  }

  /** Connects the command client, then (unless commands only) the PUB/SUB connection, on the shard channel. */
  async start(): Promise<void> {
    await this.client.connect();
    if (this.commandsOnly) return;
    await this.pubsub.subscribeFixed([this.keys.shardChannel]);
    await this.pubsub.start();
  }

  /** Runs one command or script, counting it while pending and counting its failure. */
  async run<T>(op: string, fn: (c: CommandClient) => Promise<T>): Promise<T> {
    this.corkTurn();
    redisPending.commands++;
    if (this.inFlight++ === 0) this.progressAt = Date.now();
    try {
      return await fn(this.client);
    } catch (err) {
      redisMetrics.commandErrors.inc({ op });
      throw err;
    } finally {
      redisPending.commands--;
      this.inFlight--;
      this.progressAt = Date.now();
    }
  }

  /**
   * PUBLISH of one message. On a Redis Cluster it runs as a script keyed by `routeKey` (a key of the channel's
   * slot), so every message of one channel leaves from the same node and keeps its order; elsewhere a plain
   * PUBLISH on the one command connection does.
   */
  publish(op: string, channel: string, payload: Uint8Array, routeKey: string): Promise<unknown> {
    const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (this.spec.mode === 'cluster') return this.run(op, (c) => runScript(c, publishPinned, [routeKey], [channel, buf]));
    return this.run(op, (c) => c.publish(channel, buf));
  }

  /**
   * Commands issued during one event-loop turn leave in one write: the socket is corked at the first and
   * uncorked at the end of the turn. This is ioredis' auto-pipelining without its per-turn Pipeline object,
   * which cost about a third of the CPU of a lone PUBLISH (paced API publishes at 400/s: ~145 µs per publish
   * through the HTTP API with auto-pipelining, ~100-120 µs with a corked socket; bursts the same). Every
   * command still goes out in call order on the one connection.
   */
  private corkTurn(): void {
    const c = this.client;
    if (this.corked || !(c instanceof Redis) || c.status !== 'ready') return;
    const stream = c.stream;
    stream.cork();
    this.corked = true;
    process.nextTick(() => {
      this.corked = false;
      stream.uncork();
    });
  }

  /**
   * io_timeout on a standalone or Sentinel command connection: one check every quarter of it, instead of
   * ioredis' commandTimeout, which armed and cleared a timer per command and deleted a property of every
   * Command (turning each into a slow dictionary object). When commands are pending and none has settled for
   * io_timeout, the connection is stuck (replies come in order on it): it is dropped, which fails every
   * pending command at once (maxRetriesPerRequest 0, nothing resent) and reconnects with the usual backoff,
   * as Centrifugo closes a connection whose read or write passes io_timeout.
   */
  private watchCommands(client: Redis): void {
    const timeoutMs = this.spec.ioTimeoutMs;
    if (!(timeoutMs > 0)) return;
    this.watchdog = setInterval(() => {
      if (this.inFlight === 0 || Date.now() - this.progressAt < timeoutMs || client.status !== 'ready') return;
      redisMetrics.commandErrors.inc({ op: 'io_timeout' });
      this.progressAt = Date.now();
      client.disconnect(true);
    }, Math.max(25, Math.floor(timeoutMs / 4)));
    this.watchdog.unref();
  }

  get commandsUp(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.revive !== undefined) clearTimeout(this.revive);
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.pubsub.close();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /**
   * ioredis can give a command connection up for good ('end') although its retry strategy never stops: a
   * Sentinel connection whose failover detector fires (+switch-master) while a reconnect is resolving the
   * master aborts that connect, and a failed connect ends the client. Until close(), an ended command
   * connection is connected again with the same backoff.
   */
  private keepReconnecting(client: Redis): void {
    client.on('ready', () => {
      this.revivals = 0;
    });
    client.on('end', () => {
      if (this.closing || this.revive !== undefined) return;
      this.revive = setTimeout(() => {
        this.revive = undefined;
        if (this.closing || client.status !== 'end') return;
        // A failed attempt emits 'error' (reported above) and 'end' again, which schedules the next one.
        client.connect().catch(() => undefined);
      }, backoff(this.revivals++));
      this.revive.unref();
    });
  }

  private newNode(commands: boolean): Redis {
    const o: RedisOptions = { ...nodeOptions(this.spec), ...targetOptions(this.spec) };
    if (commands) {
      o.enableAutoPipelining = false; // corked per turn instead (corkTurn)
      o.enableOfflineQueue = false;
      // io_timeout is watched per connection (watchCommands), not with a timer per command.
      o.retryStrategy = backoff;
      o.maxRetriesPerRequest = 0;
    } else {
      o.enableAutoPipelining = false;
      o.retryStrategy = () => null;
      if (o.sentinels !== undefined) o.sentinelRetryStrategy = () => null;
    }
    return new Redis(o);
  }

  private newCluster(): Cluster {
    const redisOptions = nodeOptions(this.spec);
    delete redisOptions.db;
    redisOptions.commandTimeout = this.spec.ioTimeoutMs;
    return new Cluster(
      this.spec.addresses.map((a) => ({ host: a.host, port: a.port })),
      {
        lazyConnect: true,
        enableAutoPipelining: true,
        redisOptions,
        clusterRetryStrategy: backoff,
        scaleReads: 'master',
        maxRedirections: 16,
      },
    );
  }

  /** PUB/SUB on a Cluster: PUBLISH reaches every node, so any node serves; the next one after a failure. */
  private newClusterNodeConnection(): Redis {
    const known: HostPort[] = [];
    if (this.client instanceof Cluster) {
      for (const n of this.client.nodes('master')) {
        const { host, port } = n.options;
        if (host !== undefined && port !== undefined) known.push({ host, port });
      }
    }
    const list = known.length > 0 ? known : this.spec.addresses;
    const target = list[this.clusterCursor++ % list.length]!;
    const o: RedisOptions = { ...nodeOptions(this.spec), host: target.host, port: target.port };
    delete o.db;
    o.enableAutoPipelining = false;
    o.retryStrategy = () => null;
    return new Redis(o);
  }
}

export class RedisShards {
  readonly list: RedisShard[];
  private started: Promise<void> | undefined;

  constructor(specs: readonly ShardSpec[], prefix: string, events: ShardEvents, tuning: ShardTuning = {}) {
    this.list = specs.map((s, i) => new RedisShard(i, s, prefix, events, tuning));
  }

  /** Idempotent: connects every shard once. */
  start(): Promise<void> {
    this.started ??= Promise.all(this.list.map((s) => s.start())).then(() => undefined);
    return this.started;
  }

  of(channel: string): RedisShard {
    return this.list.length === 1 ? this.list[0]! : this.list[consistentIndex(channel, this.list.length)]!;
  }

  /**
   * The shard control messages are published on. Centrifugo spreads them round-robin; every node (Gyre or
   * Centrifugo) listens on all shards, so one fixed shard interoperates and keeps one sender's messages in order.
   */
  controlShard(): RedisShard {
    return this.list[0]!;
  }

  /** Groups channels by shard, keeping their order inside each group. */
  group(channels: readonly string[]): Map<RedisShard, string[]> {
    const out = new Map<RedisShard, string[]>();
    for (const ch of channels) {
      const s = this.of(ch);
      let arr = out.get(s);
      if (arr === undefined) {
        arr = [];
        out.set(s, arr);
      }
      arr.push(ch);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((s) => s.close()));
  }
}
