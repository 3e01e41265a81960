// The PostgreSQL outbox consumer (docs/consumers.md), the way Centrifugo's internal/consuming/postgresql.go works:
// the application inserts rows (id bigserial, method text, payload jsonb|json|bytea|text, partition int) in the
// same transaction as its own writes; one loop per partition runs transactions that
//   1. take the partition's advisory lock, pg_advisory_xact_lock(hashtext('centrifugo_partition_lock_<name><n>'))
//      (pg_try_advisory_xact_lock with use_try_lock), the same key as Centrifugo, so Gyre and Centrifugo nodes
//      sharing an outbox never consume one partition at once and each partition is consumed in id order;
//   2. read up to partition_select_limit rows in id order (also locked FOR UPDATE, so a consumer under another
//      name cannot take the same rows; not SKIP LOCKED, which would let it run later rows first);
//   3. dispatch them one by one, stopping at the first that must be retried (internal error) or at a stop;
//   4. delete the rows dispatched and commit.
// A row becomes a command once: it is deleted in the transaction that dispatched it. If Gyre dies between a
// dispatch and the commit, the rows of that batch are dispatched again by the next holder of the lock
// (at least once; idempotency keys make such a publish a no-op). A graceful stop finishes the row in flight
// and commits. A partition with fewer rows than the limit waits partition_poll_interval or a NOTIFY on
// partition_notification_channel carrying the partition number. The SQL of a batch and its round trips: ./outbox-sql.ts.
import pg from 'pg';
import type { Logger } from 'pino';
import type { PostgresConsumerConfig } from '../config/types.js';
import { Waker, nextBackoffMs, settlesWithin, sleep } from './backoff.js';
import { consumerMetrics } from './metrics.js';
import { OutboxSql } from './outbox-sql.js';
import { clientTls } from '../config/pem.js';
import { RetryableDispatchError, type CommandDispatcher, type Consumer } from './types.js';

const DEFAULT_PARTITIONS = 1;
const DEFAULT_SELECT_LIMIT = 100;
const DEFAULT_POLL_MS = 300;
const CONNECT_TIMEOUT_MS = 10_000;
const NOTIFY_RETRY_MS = 1000;

const BYTEA_OID = 17;
const encoder = new TextEncoder();

/** bytea in PostgreSQL's older escape output format (bytea_output = escape): `\\` and `\ooo` octal escapes. */
function unescapeBytea(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) out.push(c);
    else if (text[i + 1] === '\\') {
      out.push(0x5c);
      i++;
    } else {
      out.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    }
  }
  return new Uint8Array(out);
}

/** The bytes of a column as PostgreSQL sent it in text format: bytea unescaped, anything else as its text. */
function columnBytes(oid: number): (text: string) => Uint8Array {
  if (oid !== BYTEA_OID) return (text) => encoder.encode(text);
  return (text) => (text.startsWith('\\x') ? new Uint8Array(Buffer.from(text.slice(2), 'hex')) : unescapeBytea(text));
}

/** Type parsers for the outbox query: id and partition as text (bigint-safe), payload as bytes, never parsed. */
const rawTypes: pg.CustomTypesConfig = {
  getTypeParser: (oid: number) => columnBytes(oid),
};

interface OutboxRow {
  id: Uint8Array;
  method: Uint8Array;
  payload: Uint8Array;
}

const textDecoder = new TextDecoder();

export interface PostgresConsumerOptions {
  name: string;
  config: PostgresConsumerConfig;
  dispatcher: CommandDispatcher;
  logger: Logger;
  /** How long close() waits for the work in flight before dropping connections. */
  closeGraceMs: number;
}

export class PostgresConsumer implements Consumer {
  readonly type = 'postgresql' as const;
  readonly name: string;
  private readonly cfg: Required<Pick<PostgresConsumerConfig, 'num_partitions' | 'partition_select_limit' | 'partition_poll_interval'>>;
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private readonly wakers: Waker[] = [];
  private readonly loops: Promise<void>[] = [];
  /** Connections checked out by the partition loops right now. */
  private readonly active = new Set<pg.PoolClient>();
  private readonly sql: OutboxSql;
  private stopping = false;
  private listener: pg.Client | undefined;
  private listenLoop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Aborted by close(): ends backoff and reconnect sleeps at once. */
  private readonly stop = new AbortController();

  constructor(private readonly opts: PostgresConsumerOptions) {
    const c = opts.config;
    this.name = opts.name;
    this.logger = opts.logger.child({ consumer: opts.name, type: 'postgresql' });
    this.cfg = {
      num_partitions: c.num_partitions > 0 ? c.num_partitions : DEFAULT_PARTITIONS,
      partition_select_limit: c.partition_select_limit > 0 ? c.partition_select_limit : DEFAULT_SELECT_LIMIT,
      partition_poll_interval: c.partition_poll_interval > 0 ? c.partition_poll_interval : DEFAULT_POLL_MS,
    };
    this.sql = new OutboxSql(c.outbox_table_name, opts.name);
    const ssl = clientTls(c.tls, 'postgresql.tls');
    this.pool = new pg.Pool({
      connectionString: c.dsn,
      max: this.cfg.num_partitions,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      ...(ssl !== undefined ? { ssl } : {}),
    });
    this.pool.on('error', (err) => this.logger.warn({ err }, 'idle postgresql connection failed'));
    for (let i = 0; i < this.cfg.num_partitions; i++) this.wakers.push(new Waker());
  }

  async start(): Promise<void> {
    // Like Centrifugo: a database that cannot be reached at start-up fails the start.
    const client = await this.pool.connect();
    try {
      await client.query('SELECT 1');
    } finally {
      client.release();
    }
    consumerMetrics.init(this.name);
    if (this.opts.config.partition_notification_channel !== '') this.listenLoop = this.listenForever();
    for (let i = 0; i < this.cfg.num_partitions; i++) this.loops.push(this.partitionLoop(i));
    this.logger.info({ partitions: this.cfg.num_partitions }, 'running consumer');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      this.stop.abort();
      for (const w of this.wakers) w.wake();
      const listener = this.listener;
      this.listener = undefined;
      await listener?.end().catch(() => undefined);
      const all = Promise.all([...this.loops, this.listenLoop]);
      if (!(await settlesWithin(all, this.opts.closeGraceMs))) {
        this.logger.warn('consumer loops did not stop in time; dropping their connections (their open batch is rolled back)');
        // Ending a connection fails the query it waits in (a partition lock held elsewhere, a slow statement).
        for (const c of this.active) void c.end().catch(() => undefined);
      }
      await this.pool.end().catch(() => undefined);
      await all;
    })();
    return this.closing;
  }

  private async partitionLoop(partition: number): Promise<void> {
    let retries = 0;
    while (!this.stopping) {
      let n: number;
      try {
        n = await this.processOnce(partition);
      } catch (err) {
        if (this.stopping) break;
        if (err instanceof LockNotAcquired) {
          await this.wakers[partition]?.wait(this.cfg.partition_poll_interval);
          continue;
        }
        retries++;
        consumerMetrics.errors.labels(this.name).inc();
        this.logger.error({ err: err instanceof RetryableDispatchError ? err.message : err, partition }, 'error processing postgresql outbox');
        await sleep(nextBackoffMs(retries), this.stop.signal);
        continue;
      }
      retries = 0;
      if (n < this.cfg.partition_select_limit) await this.wakers[partition]?.wait(this.cfg.partition_poll_interval);
    }
  }

  /** One transaction: lock the partition, dispatch a batch, delete what was dispatched, commit. The count of rows done. */
  private async processOnce(partition: number): Promise<number> {
    const client = await this.pool.connect();
    this.active.add(client);
    let broken: unknown;
    try {
      return await this.batch(client, partition);
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
      broken ??= err instanceof RetryableDispatchError || err instanceof LockNotAcquired ? undefined : err;
      throw err;
    } finally {
      this.active.delete(client);
      // A connection whose state is unknown (a failed query, a failed rollback) is dropped, not reused.
      client.release(broken instanceof Error ? broken : broken !== undefined);
    }
  }

  private async batch(client: pg.PoolClient, partition: number): Promise<number> {
    const select = this.sql.select(partition, this.cfg.partition_select_limit);
    let rows: OutboxRow[];
    if (this.opts.config.use_try_lock) {
      const lock = results(await client.query(this.sql.begin(partition, true)))[2];
      if ((lock?.rows[0] as { ok?: unknown } | undefined)?.ok !== true) throw new LockNotAcquired();
      rows = (await client.query<OutboxRow>({ text: select, types: rawTypes })).rows;
    } else {
      const batch = results(await client.query({ text: this.sql.begin(partition, false, select), types: rawTypes }))[3];
      if (batch === undefined) throw new Error('no batch in the reply to the outbox select');
      rows = batch.rows as OutboxRow[];
    }
    const done: string[] = [];
    let retry: RetryableDispatchError | undefined;
    for (const row of rows) {
      if (this.stopping) break;
      const method = textDecoder.decode(row.method);
      try {
        await this.opts.dispatcher.dispatch(method, row.payload);
      } catch (err) {
        if (!(err instanceof RetryableDispatchError)) throw err;
        // Stop here: what was dispatched is deleted and committed, this row comes again after a backoff.
        retry = err;
        break;
      }
      done.push(textDecoder.decode(row.id));
    }
    await client.query(this.sql.deleteAndCommit(done));
    consumerMetrics.processed.labels(this.name).inc(done.length);
    if (retry !== undefined) throw retry;
    return done.length;
  }

  /** LISTEN on the notification channel, reconnecting after a second when the connection fails. */
  private async listenForever(): Promise<void> {
    const c = this.opts.config;
    while (!this.stopping) {
      const client = new pg.Client({
        connectionString: c.partition_notification_dsn !== '' ? c.partition_notification_dsn : c.dsn,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        ...(c.tls.enabled ? { ssl: clientTls(c.tls, 'postgresql.tls') } : {}),
      });
      const ended = new Promise<unknown>((resolve) => {
        client.once('error', resolve);
        client.once('end', () => resolve(undefined));
      });
      client.on('notification', (n) => this.onNotification(n.payload));
      try {
        await client.connect();
        if (this.stopping) {
          await client.end();
          break;
        }
        this.listener = client;
        await client.query(`LISTEN ${pg.escapeIdentifier(c.partition_notification_channel)}`);
        const err = await ended;
        if (!this.stopping) this.logger.error({ err }, 'error listening outbox notifications');
      } catch (err) {
        if (!this.stopping) this.logger.error({ err }, 'error listening outbox notifications');
      }
      if (this.listener === client) this.listener = undefined;
      await client.end().catch(() => undefined);
      if (!this.stopping) await sleep(NOTIFY_RETRY_MS, this.stop.signal);
    }
  }

  private onNotification(payload: string | undefined): void {
    const partition = Number(payload);
    if (!Number.isInteger(partition) || payload === undefined || payload.trim() === '') {
      this.logger.error({ payload }, 'error converting postgresql notification');
      return;
    }
    const w = this.wakers[partition];
    if (w === undefined) {
      this.logger.error({ partition }, 'outbox partition is out of range');
      return;
    }
    w.wake();
  }
}

/** The results of a multi-statement simple query (node-postgres gives an array then, typed as one result). */
function results(r: unknown): pg.QueryResult[] {
  if (!Array.isArray(r)) throw new Error('expected the results of several statements');
  return r as pg.QueryResult[];
}

class LockNotAcquired extends Error {
  override readonly name = 'LockNotAcquired';
}
