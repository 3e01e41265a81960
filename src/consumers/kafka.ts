// The Kafka consumer (docs/consumers.md), after Centrifugo's internal/consuming/kafka.go, on @platformatic/kafka
// (a maintained pure-JS client; no native addon to build). One consumer-group member reads `topics`; each
// topic-partition has its own queue run one record at a time, so partitions do not wait for each other and a
// record that must be retried (internal error) holds back only the later records of its partition. A record
// runs either as an API command (method from `method_header`, or the `{"method","payload"}` envelope without it)
// or, in publication data mode, as ready publication data with channels and options from headers.
// Offsets are committed only for records that ran (every second, and at close), so a graceful restart goes on
// after the last record that ran; after a crash the records since the last commit run again (at least once).
// Fetching pauses while more than partition_queue_max_size records wait.
import { Consumer as KafkaClient, MessagesStreamModes, type Message, type MessagesStream, type SASLOptions } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { KafkaConsumerConfig } from '../config/types.js';
import { nextBackoffMs, settlesWithin, sleep } from './backoff.js';
import { consumerMetrics } from './metrics.js';
import { clientTls } from '../config/pem.js';
import { RetryableDispatchError, type CommandDispatcher, type Consumer, type ConsumedPublication, type DispatchOutcome } from './types.js';

type Record = Message<Buffer, Buffer, Buffer, Buffer>;

const COMMIT_INTERVAL_MS = 1000;
const RESTART_MS = 1000;

interface PartitionQueue {
  readonly items: Record[];
  /** The drain loop in progress, if any. */
  running: Promise<void> | undefined;
  /** Last record that ran, and the last one committed. */
  done: Record | undefined;
  committed: Record | undefined;
}

function queueKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function header(m: Record, name: string): string {
  if (name === '') return '';
  for (const [k, v] of m.headers) if (k.toString('utf8') === name) return v.toString('utf8');
  return '';
}

/** Go's strconv.ParseBool. */
function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

export interface KafkaConsumerOptions {
  name: string;
  config: KafkaConsumerConfig;
  dispatcher: CommandDispatcher;
  logger: Logger;
  /** How long close() waits for the work in flight before dropping connections. */
  closeGraceMs: number;
}

export class KafkaConsumer implements Consumer {
  readonly type = 'kafka' as const;
  readonly name: string;
  private readonly cfg: KafkaConsumerConfig;
  private readonly logger: Logger;
  private readonly client: KafkaClient<Buffer, Buffer, Buffer, Buffer>;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private readonly queues = new Map<string, PartitionQueue>();
  private queued = 0;
  private stopping = false;
  private readonly stop = new AbortController();
  private commitTimer: NodeJS.Timeout | undefined;
  private restarting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: KafkaConsumerOptions) {
    const c = opts.config;
    this.cfg = c;
    this.name = opts.name;
    this.logger = opts.logger.child({ consumer: opts.name, type: 'kafka' });
    const tls = clientTls(c.tls, 'kafka.tls');
    const sasl: SASLOptions | undefined =
      c.sasl_mechanism === ''
        ? undefined
        : {
            mechanism: c.sasl_mechanism === 'plain' ? 'PLAIN' : c.sasl_mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512',
            username: c.sasl_user,
            password: c.sasl_password,
          };
    this.client = new KafkaClient({
      clientId: 'centrifugo',
      groupId: c.consumer_group,
      bootstrapBrokers: c.brokers,
      connectTimeout: c.dial_timeout,
      retries: 3,
      ...(tls !== undefined ? { tls } : {}),
      ...(sasl !== undefined ? { sasl } : {}),
      ...(c.instance_id !== '' ? { groupInstanceId: c.instance_id } : {}),
    });
  }

  async start(): Promise<void> {
    consumerMetrics.init(this.name);
    // A rebalance is coming: commit what ran while the partitions are still ours. After it, forget what was
    // queued for partitions now assigned elsewhere (their new owner reads them from the committed offset).
    this.client.on('consumer:group:rebalance', () => void this.commit());
    this.client.on('consumer:group:join', (p: { assignments?: ReadonlyArray<{ topic: string; partitions: readonly number[] }> }) => {
      if (p.assignments !== undefined) this.keepAssigned(p.assignments);
    });
    // Like Centrifugo: brokers that cannot be reached at start-up fail the start.
    await this.openStream();
    this.commitTimer = setInterval(() => void this.commit(), COMMIT_INTERVAL_MS);
    this.commitTimer.unref();
    this.logger.info({ topics: this.cfg.topics }, 'running consumer');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      this.stop.abort();
      clearInterval(this.commitTimer);
      await this.restarting;
      await this.stream?.close().catch(() => undefined);
      // Records still queued have not run: they are not committed and come again on the next start.
      for (const q of this.queues.values()) {
        this.queued -= q.items.length;
        q.items.length = 0;
      }
      const running = Promise.all([...this.queues.values()].map((q) => q.running ?? Promise.resolve()));
      if (!(await settlesWithin(running, this.opts.closeGraceMs))) this.logger.warn('a consumed record did not finish in time; it is not committed and runs again after a restart');
      await this.commit();
      try {
        await this.client.close();
      } catch (err) {
        this.logger.warn({ err }, 'kafka consumer close failed');
      }
    })();
    return this.closing;
  }

  private keepAssigned(assignments: ReadonlyArray<{ topic: string; partitions: readonly number[] }>): void {
    const mine = new Set<string>();
    for (const a of assignments) for (const part of a.partitions) mine.add(queueKey(a.topic, part));
    for (const [key, q] of this.queues) {
      if (mine.has(key)) continue;
      this.queued -= q.items.length;
      q.items.length = 0;
      q.done = q.committed; // not ours to commit any more
    }
  }

  private async openStream(): Promise<void> {
    const c = this.cfg;
    const stream = await this.client.consume({
      topics: c.topics,
      mode: MessagesStreamModes.COMMITTED,
      // A group without committed offsets starts at the beginning, as franz-go does.
      fallbackMode: 'earliest',
      autocommit: false,
      maxWaitTime: c.fetch_max_wait,
      ...(c.fetch_max_bytes > 0 ? { maxBytes: c.fetch_max_bytes } : {}),
      isolationLevel: c.fetch_read_uncommitted ? 0 : 1,
      highWaterMark: Math.max(1, c.max_poll_records),
    });
    this.stream = stream;
    stream.on('data', (m: Record) => this.enqueue(m));
    stream.on('error', (err: unknown) => {
      consumerMetrics.errors.labels(this.name).inc();
      this.logger.error({ err }, 'error consuming from kafka');
    });
    stream.once('close', () => {
      if (!this.stopping && this.stream === stream) this.restarting = this.reopen();
    });
  }

  /** The fetch stream ended on its own (broker gone, group error): open a new one until it works or we stop. */
  private async reopen(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      await sleep(Math.max(RESTART_MS, nextBackoffMs(attempt)), this.stop.signal);
      if (this.stopping) return;
      try {
        await this.openStream();
        return;
      } catch (err) {
        consumerMetrics.errors.labels(this.name).inc();
        this.logger.error({ err }, 'error re-creating kafka consumer stream');
      }
    }
  }

  private enqueue(m: Record): void {
    if (this.stopping) return;
    const key = queueKey(m.topic, m.partition);
    let q = this.queues.get(key);
    if (q === undefined) {
      q = { items: [], running: undefined, done: undefined, committed: undefined };
      this.queues.set(key, q);
    }
    q.items.push(m);
    this.queued++;
    const limit = this.cfg.partition_queue_max_size;
    if (limit < 0 || this.queued >= limit) this.stream?.pause();
    q.running ??= this.drain(q);
  }

  private async drain(q: PartitionQueue): Promise<void> {
    try {
      while (!this.stopping) {
        const m = q.items.shift();
        if (m === undefined) break;
        this.queued--;
        if (!(await this.process(m))) break;
        q.done = m;
        const limit = this.cfg.partition_queue_max_size;
        if (this.stream?.isPaused() === true && (limit < 0 ? this.queued === 0 : this.queued < limit)) this.stream.resume();
      }
    } finally {
      q.running = undefined;
    }
  }

  /** Runs one record until it is done or skipped (retrying internal errors); false when stopped first. */
  private async process(m: Record): Promise<boolean> {
    for (let retries = 0; ; ) {
      try {
        await this.dispatch(m);
        if (retries > 0) this.logger.info({ topic: m.topic, partition: m.partition }, 'OK processing message after errors');
        consumerMetrics.processed.labels(this.name).inc();
        return true;
      } catch (err) {
        // An internal error (RetryableDispatchError), or anything unexpected: the record stays and is retried.
        retries++;
        const wait = nextBackoffMs(retries);
        consumerMetrics.errors.labels(this.name).inc();
        this.logger.error({ err: err instanceof RetryableDispatchError ? err.message : err, topic: m.topic, partition: m.partition, next_attempt_in_ms: wait }, 'error processing consumed record');
        await sleep(wait, this.stop.signal);
        if (this.stopping) return false;
      }
    }
  }

  private dispatch(m: Record): Promise<DispatchOutcome> {
    const value = new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength);
    const pdm = this.cfg.publication_data_mode;
    if (!pdm.enabled) return this.opts.dispatcher.dispatch(header(m, this.cfg.method_header), value);
    const where = { topic: m.topic, partition: m.partition };
    const delta = header(m, pdm.delta_header);
    const deltaFlag = delta === '' ? false : parseBool(delta);
    if (deltaFlag === undefined) {
      this.logger.error({ ...where, value: delta }, 'error parsing delta header value, skip message');
      return Promise.resolve('skipped');
    }
    const channels = header(m, pdm.channels_header).split(',');
    if (channels.length === 1 && channels[0] === '') {
      this.logger.info(where, 'no channels found, skip message');
      return Promise.resolve('skipped');
    }
    const version = header(m, pdm.version_header);
    if (version !== '' && !/^\d+$/.test(version)) {
      this.logger.error({ ...where, value: version }, 'error parsing version header value, skip message');
      return Promise.resolve('skipped');
    }
    const pub: ConsumedPublication = { data: value, idempotencyKey: header(m, pdm.idempotency_key_header), delta: deltaFlag };
    if (pdm.tags_header_prefix !== '') {
      for (const [k, v] of m.headers) {
        const key = k.toString('utf8');
        if (!key.startsWith(pdm.tags_header_prefix)) continue;
        (pub.tags ??= {})[key.slice(pdm.tags_header_prefix.length)] = v.toString('utf8');
      }
    }
    return this.opts.dispatcher.dispatchPublication(channels, pub);
  }

  /** Commits, per partition, the offset after the last record that ran. */
  private async commit(): Promise<void> {
    for (const q of this.queues.values()) {
      const m = q.done;
      if (m === undefined || m === q.committed) continue;
      try {
        await m.commit();
        q.committed = m;
      } catch (err) {
        consumerMetrics.errors.labels(this.name).inc();
        this.logger.warn({ err, topic: m.topic, partition: m.partition }, 'kafka offset commit failed (retried on the next one)');
      }
    }
  }
}
