// The PostgreSQL outbox consumer end to end: a real PostgreSQL (test/harness/postgres.ts), a real Gyre process with
// the Redis engine (history survives a Gyre restart, so the official client recovers what it missed), and the
// official `centrifuge` client. Rows become publications exactly once and in id order per partition, also when
// Gyre is restarted while rows keep coming; bad rows are logged and skipped without stopping the rows after
// them; payload bytes arrive exactly as stored; an internal error keeps the row until it can be published.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { baseConfig } from '../compat/base-config.js';
import { ClientPool, callApi } from '../harness/clients.js';
import { mergeConfig, type GyreProcess } from '../harness/gyre.js';
import { expectEachReceived, expectPublishedOnceInOrder, startGyreOnPort, subscribeFeed } from './common.js';
import { freePort } from '../harness/ports.js';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../harness/postgres.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { sleep, waitFor } from '../harness/wait.js';

const pgMissing = postgresUnavailable();
const skip = pgMissing ?? ((await redisAvailable()) ? false : 'redis-server is not installed');

const NOTIFY = 'gyre_outbox_notify';
const SCHEMA = `
CREATE TABLE outbox (
  id BIGSERIAL PRIMARY KEY,
  method text NOT NULL,
  payload JSONB NOT NULL,
  partition INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
);
CREATE TABLE raw_outbox (
  id BIGSERIAL PRIMARY KEY,
  method text NOT NULL,
  payload BYTEA NOT NULL,
  partition INTEGER NOT NULL DEFAULT 0
);
CREATE FUNCTION outbox_notify() RETURNS TRIGGER AS $$
BEGIN
  PERFORM pg_notify('${NOTIFY}', NEW.partition::text);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_notify();
`;

describe('consumers: PostgreSQL outbox', { skip }, () => {
  let pg: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let gyre: GyreProcess | undefined;
  let port = 0;
  const pool = new ClientPool();

  const start = async (): Promise<GyreProcess> => {
    const config = mergeConfig(baseConfig(), {
      engine: { type: 'redis', redis: { address: [redis!.address], prefix: `gyrepg${port}` } },
      shutdown: { timeout: '5s', drain_duration: '0s' },
      consumers: [
        {
          name: 'outbox',
          enabled: true,
          type: 'postgresql',
          postgresql: {
            dsn: pg!.dsn,
            outbox_table_name: 'outbox',
            num_partitions: 2,
            partition_select_limit: 10,
            // Long: the rows of the test arrive by NOTIFY, not by polling.
            partition_poll_interval: '2s',
            partition_notification_channel: NOTIFY,
          },
        },
        {
          name: 'raw_outbox',
          enabled: true,
          type: 'postgresql',
          postgresql: { dsn: pg!.dsn, outbox_table_name: 'raw_outbox', partition_poll_interval: '50ms', use_try_lock: true },
        },
        // Disabled entries of types Gyre does not run are accepted, as Centrifugo accepts them.
        { name: 'later', enabled: false, type: 'nats_jetstream', nats_jetstream: { stream_name: 'x' } },
      ],
    });
    return await startGyreOnPort(port, config);
  };


  const rowsLeft = async (table: string): Promise<number> => Number((await pg!.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  before(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    await pg.query(SCHEMA);
    port = await freePort();
    gyre = await start();
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  it('rows become publications exactly once, in id order per partition, across a Gyre restart mid-stream', async () => {
    const feeds = [await subscribeFeed(pool, gyre!.url, 'rec:p0'), await subscribeFeed(pool, gyre!.url, 'rec:p1')];
    const N = 120;
    // A writer that keeps inserting while Gyre restarts: 12 transactions of 10 rows, alternating partitions.
    let written = 0;
    const firstSeen = waitFor(() => feeds[0]!.pubs.length + feeds[1]!.pubs.length >= 20, { what: 'first publications', timeoutMs: 15_000 });
    const writer = (async () => {
      const c = await pg!.client();
      try {
        for (let b = 0; b < N / 10; b++) {
          if (b === 3) await firstSeen; // the rest is written while Gyre restarts
          await c.query('BEGIN');
          for (let i = b * 10; i < b * 10 + 10; i++) {
            const p = i % 2;
            await c.query('INSERT INTO outbox (method, payload, partition) VALUES ($1, $2, $3)', [
              'publish',
              JSON.stringify({ channel: `rec:p${p}`, data: { n: i } }),
              p,
            ]);
          }
          await c.query('COMMIT');
          written += 10;
          await sleep(40);
        }
      } finally {
        await c.end();
      }
    })();
    // Restart once some rows went through and the writer is still running.
    await firstSeen;
    assert.ok(written < N, 'the restart happens while rows are still being written');
    const exit = await gyre!.stop();
    assert.equal(exit.code, 0, 'graceful stop');
    gyre = await start();
    await writer;
    await expectPublishedOnceInOrder(gyre.apiUrl, N, 'rec:p');
    await expectEachReceived(feeds, N, 'rec:p');
    assert.equal(await rowsLeft('outbox'), 0, 'every consumed row deleted');
  });

  it('payload bytes arrive as stored; bad rows are logged and skipped, the rows after them still run', async () => {
    const { pubs } = await subscribeFeed(pool, gyre!.url, 'rec:raw');
    const exact = '{"n":1.50,"e":"\\u00e9"}';
    const rows: Array<[string, Buffer]> = [
      ['publish', Buffer.from([0xff, 0x00, 0x7b, 0x22])], // not JSON
      ['publish', Buffer.from('[1,2,3]')], // JSON, not a request
      ['no_such_method', Buffer.from('{"channel":"rec:raw","data":{"bad":1}}')], // unknown method
      ['presence', Buffer.from('{"channel":"rec:raw"}')], // not consumable
      ['publish', Buffer.from('{"channel":"","data":{"bad":2}}')], // 107
      ['publish', Buffer.from('{"channel":"nosuchns:x","data":{"bad":3}}')], // 102
      ['', Buffer.from('{"method":"publish"')], // broken envelope
      ['publish', Buffer.from(`{"channel":"rec:raw","data":${exact}}`)],
      // Envelope form (empty method) with the request as a JSON string, as Debezium writes JSONB.
      ['', Buffer.from(JSON.stringify({ method: 'publish', payload: JSON.stringify({ channel: 'rec:raw', data: { env: 1 } }) }))],
      ['', Buffer.from('{"method":"publish","payload":{"channel":"rec:raw","data":{"env":2}}}')],
    ];
    const c = await pg!.client();
    try {
      for (const [m, p] of rows) await c.query('INSERT INTO raw_outbox (method, payload) VALUES ($1, $2)', [m, p]);
    } finally {
      await c.end();
    }
    await waitFor(() => pubs.length >= 3, { what: 'the three good rows', timeoutMs: 15_000 });
    await waitFor(async () => (await rowsLeft('raw_outbox')) === 0, { what: 'raw_outbox drained', timeoutMs: 10_000 });
    await sleep(200);
    assert.deepEqual(
      pubs.map((x) => x.data),
      [{ n: 1.5, e: 'é' }, { env: 1 }, { env: 2 }],
    );
    // The bytes themselves: history returns the publication as stored (numbers and escapes untouched).
    const { text } = await callApi(gyre!.apiUrl, 'history', { channel: 'rec:raw', limit: 10 });
    assert.ok(text.includes(`"data":${exact}`), `history keeps the exact payload bytes: ${text}`);
    assert.equal((await fetch(`${gyre!.baseUrl}/health`)).status, 200, 'Gyre still healthy');
    assert.match(gyre!.stderr() + gyre!.stdout(), /skip/, 'skipped rows are logged');
  });

  it('use_try_lock: a partition whose lock another holder has is skipped until the lock is free, then consumed once', async () => {
    const { pubs } = await subscribeFeed(pool, gyre!.url, 'rec:try');
    const holder = await pg!.client();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT pg_advisory_xact_lock(hashtext('centrifugo_partition_lock_raw_outbox0'))");
      await pg!.query('INSERT INTO raw_outbox (method, payload) VALUES ($1, $2)', ['publish', Buffer.from('{"channel":"rec:try","data":{"t":1}}')]);
      await sleep(400); // 8 poll intervals, each finding the lock taken
      assert.equal(pubs.length, 0, 'not consumed while the lock is held elsewhere');
      assert.equal(await rowsLeft('raw_outbox'), 1);
      await holder.query('COMMIT');
      await waitFor(async () => (await rowsLeft('raw_outbox')) === 0, { what: 'raw_outbox drained', timeoutMs: 10_000 });
      await waitFor(() => pubs.length === 1, { what: 'the row published' });
      await sleep(200);
      assert.deepEqual(pubs.map((x) => x.data), [{ t: 1 }]);
    } finally {
      await holder.end();
    }
  });

  it('an internal error (Redis down) keeps the row; it is published once, when Redis is back', async () => {
    await redis!.kill();
    await pg!.query('INSERT INTO raw_outbox (method, payload) VALUES ($1, $2)', ['publish', Buffer.from('{"channel":"rec:retry","data":{"r":1}}')]);
    await sleep(500);
    assert.equal(await rowsLeft('raw_outbox'), 1, 'the row stays while publishing fails');
    assert.match(gyre!.stderr() + gyre!.stdout(), /will retry/);
    await redis!.restart();
    await waitFor(async () => (await rowsLeft('raw_outbox')) === 0, { what: 'row published and deleted', timeoutMs: 20_000 });
    await sleep(300);
    // The channel's history (in the restarted Redis) holds the publication once.
    const { body } = await callApi(gyre!.apiUrl, 'history', { channel: 'rec:retry', limit: 10 });
    const pubs = (body as { result: { publications?: Array<{ data: unknown }> } }).result.publications ?? [];
    assert.deepEqual(
      pubs.map((x) => x.data),
      [{ r: 1 }],
    );
  });

  it("a partition locked by another holder of Centrifugo's lock key waits; the others run; a stop is not held up by it", async () => {
    const p0 = await subscribeFeed(pool, gyre!.url, 'rec:lock0');
    const p1 = await subscribeFeed(pool, gyre!.url, 'rec:lock1');
    // What a Centrifugo node consuming partition 0 of the consumer "outbox" holds.
    const holder = await pg!.client();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT pg_advisory_xact_lock(hashtext('centrifugo_partition_lock_outbox0'))");
      for (const p of [0, 1]) {
        await pg!.query('INSERT INTO outbox (method, payload, partition) VALUES ($1, $2, $3)', ['publish', JSON.stringify({ channel: `rec:lock${p}`, data: { p } }), p]);
      }
      await waitFor(() => p1.pubs.length === 1, { what: 'partition 1 consumed', timeoutMs: 10_000 });
      await sleep(300);
      assert.equal(p0.pubs.length, 0, 'partition 0 waits for its lock');
      await holder.query('COMMIT');
      await waitFor(() => p0.pubs.length === 1, { what: 'partition 0 consumed once the lock is free', timeoutMs: 10_000 });
      // Again, then stop while partition 0 waits in the lock: the stop drops that connection after its grace.
      await holder.query('BEGIN');
      await holder.query("SELECT pg_advisory_xact_lock(hashtext('centrifugo_partition_lock_outbox0'))");
      await pg!.query('INSERT INTO outbox (method, payload, partition) VALUES ($1, $2, $3)', ['publish', JSON.stringify({ channel: 'rec:lock0', data: { p: 'late' } }), 0]);
      await sleep(300);
      const exit = await gyre!.stop('SIGTERM', 15_000);
      assert.equal(exit.code, 0, 'graceful stop despite the waiting partition');
      assert.equal(await rowsLeft('outbox'), 1, 'the row of the locked partition is still there');
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
  });
});
