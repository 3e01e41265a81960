// PostgreSQL outbox drain rate, Gyre vs Centrifugo 6.9.1 side by side (docs/consumers.md, BENCHMARKS.md §11):
// one PostgreSQL (test/harness/postgres.ts); for each server and run, a fresh outbox table, the server started
// with a consumer on it (memory engine), then N publish rows committed in one transaction; the clock runs from
// that commit until the table is empty (every row published and deleted). No subscribers: this is the
// consumer + publish path, not fan-out. Bounded: each drain stops after 120 s.
// Run: node --import tsx bench/consumers-postgres.bench.ts [N=5000] [partitions=1] [runs=3]
// GYRE_BENCH_CPU_PROF=<dir>: each Gyre process writes a V8 CPU profile there (node --cpu-prof).
import { findCentrifugo, startCentrifugo } from '../test/harness/centrifugo.js';
import { startGyre } from '../test/harness/gyre.js';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../test/harness/postgres.js';
import { sleep } from '../test/harness/wait.js';

const N = Number(process.argv[2] ?? 5000);
const PARTITIONS = Number(process.argv[3] ?? 1);
const RUNS = Number(process.argv[4] ?? 3);
const DRAIN_LIMIT_MS = 120_000;
const PROF_DIR = process.env['GYRE_BENCH_CPU_PROF'];
/** Runs Gyre's node under --cpu-prof: the harness puts the wrapper before node's own arguments. */
const PROF_WRAP = PROF_DIR === undefined ? [] : ['/bin/sh', '-c', 'exec "$0" --cpu-prof --cpu-prof-dir="$GYRE_BENCH_CPU_PROF" "$@"'];

type Peer = 'gyre' | 'centrifugo';

function consumerConfig(pg: PostgresServer, table: string): Record<string, unknown> {
  return {
    log: { level: 'error' },
    http_api: { key: 'bench' },
    consumers: [
      {
        name: 'bench',
        enabled: true,
        type: 'postgresql',
        postgresql: {
          dsn: pg.dsn,
          outbox_table_name: table,
          num_partitions: PARTITIONS,
          partition_select_limit: 100,
          partition_poll_interval: '50ms',
        },
      },
    ],
  };
}

async function drainOnce(pg: PostgresServer, peer: Peer, run: number): Promise<number> {
  const table = `outbox_${peer}_${run}`;
  await pg.query(`CREATE TABLE ${table} (id BIGSERIAL PRIMARY KEY, method text NOT NULL, payload JSONB NOT NULL, partition INTEGER NOT NULL DEFAULT 0)`);
  const config = consumerConfig(pg, table);
  const server = peer === 'gyre' ? await startGyre(config, { wrap: PROF_WRAP }) : await startCentrifugo(config);
  try {
    await sleep(500); // consumer loops polling
    const t0 = performance.now();
    await pg.query(
      `INSERT INTO ${table} (method, payload, partition)
       SELECT 'publish', jsonb_build_object('channel', 'bench', 'data', jsonb_build_object('n', i)), i % $2
       FROM generate_series(1, $1) AS i`,
      [N, PARTITIONS],
    );
    for (;;) {
      const left = Number(((await pg.query(`SELECT count(*) AS n FROM ${table}`)).rows[0] as { n: string }).n);
      const ms = performance.now() - t0;
      if (left === 0) return ms;
      if (ms > DRAIN_LIMIT_MS) throw new Error(`${peer}: ${left} rows left after ${DRAIN_LIMIT_MS} ms`);
      await sleep(10);
    }
  } finally {
    await server.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const missing = postgresUnavailable();
if (missing !== undefined) {
  console.log(`skipped: ${missing}`);
  process.exit(0);
}
const pg = await startPostgres();
try {
  const peers: Peer[] = findCentrifugo() !== undefined ? ['gyre', 'centrifugo'] : ['gyre'];
  const rates = new Map<Peer, number[]>();
  for (let run = 0; run < RUNS; run++) {
    for (const peer of peers) {
      const ms = await drainOnce(pg, peer, run);
      const rate = (N / ms) * 1000;
      (rates.get(peer) ?? rates.set(peer, []).get(peer)!).push(rate);
      console.log(`run ${run + 1} ${peer}: ${N} rows in ${ms.toFixed(0)} ms = ${rate.toFixed(0)} rows/s`);
    }
  }
  console.log(`\nN=${N} partitions=${PARTITIONS} select_limit=100, median of ${RUNS} runs:`);
  for (const [peer, xs] of rates) console.log(`  ${peer}: ${median(xs).toFixed(0)} rows/s`);
  const g = rates.get('gyre');
  const c = rates.get('centrifugo');
  if (g !== undefined && c !== undefined) console.log(`  gyre / centrifugo: ${(median(g) / median(c)).toFixed(2)}`);
} finally {
  await pg.stop();
}
