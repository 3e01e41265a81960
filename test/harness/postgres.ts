// A real PostgreSQL server for tests: `initdb` into a temp dir, then the `postgres` server itself in the
// foreground on a free loopback port (its Unix socket in the same temp dir), so it is stopped by its PID (SIGINT:
// fast shutdown) and SIGKILLed on process exit. PostgreSQL refuses to run as root: as root, initdb and postgres
// run as the `postgres` user (created by Debian's package) through spawn's uid/gid, and the temp dir is handed
// to that user. Binaries come from /usr/lib/postgresql/<version>/bin (newest version first) or PATH.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.js';
import { removeTempDir, startServerProcess, tempDir } from './server-process.js';

const run = promisify(execFile);
/** The directory holding initdb and postgres, or undefined when PostgreSQL is not installed. */
function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  }
  for (const p of (process.env['PATH'] ?? '').split(':')) if (p !== '' && existsSync(join(p, 'initdb'))) return p;
  return undefined;
}

/** uid/gid of the `postgres` user when running as root (PostgreSQL refuses root), else undefined. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const f = line?.split(':');
  if (f === undefined || f.length < 4) throw new Error('running as root and there is no postgres user to run PostgreSQL as');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Why PostgreSQL cannot be started here, or undefined when it can (tests skip with the reason). */
export function postgresUnavailable(): string | undefined {
  if (binDir() === undefined) return 'PostgreSQL (initdb/postgres) is not installed (Debian package postgresql)';
  try {
    runAs();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

export interface PostgresServer {
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  dsn: string;
  pid(): number;
  /** A new client connected to the server (the caller ends it). */
  client(): Promise<pg.Client>;
  /** Runs one statement on a short-lived connection. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

async function canConnect(dsn: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: dsn, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed');
  const as = runAs();
  const dir = tempDir('gyre-pg-');
  if (as !== undefined) {
    chmodSync(dir, 0o700);
    chownSync(dir, as.uid, as.gid);
  }
  const data = join(dir, 'data');
  const ids = as !== undefined ? { uid: as.uid, gid: as.gid } : {};
  // Run with a neutral cwd: the postgres user may not be allowed into the caller's.
  await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    ...ids,
    cwd: dir,
    timeout: 60_000,
  });
  const port = await freePort();
  const server = startServerProcess(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    { ...ids, cwd: dir },
  );
  const dsn = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await server.waitReady(`postgres on port ${port}`, () => canConnect(dsn), 30_000);
  const client = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: dsn });
    await c.connect();
    return c;
  };
  return {
    port,
    dsn,
    pid: () => server.pid(),
    client,
    async query(sql, params) {
      const c = await client();
      try {
        return await c.query(sql, params);
      } finally {
        await c.end();
      }
    },
    async stop() {
      await server.stop('SIGINT', 5000); // SIGINT: fast shutdown
      removeTempDir(dir);
    },
  };
}
