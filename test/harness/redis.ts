// Real redis-server processes for tests, on free loopback ports with a temp dir each, stopped by PID (and
// SIGKILLed on process exit): a standalone server (restartable on the same port), a 3-master Redis Cluster
// (`redis-cli --cluster create`), and a master + replica + Sentinel set.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { commandRuns, firstLineStarts } from './probe.js';
import { sleep } from './wait.js';

const run = promisify(execFile);
const live = new Set<ChildProcess>();
const dirs = new Set<string>();

function killAll(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
process.once('exit', killAll);

/** True when redis-server can be started here (tests skip with a reason otherwise). */
export const redisAvailable = (): Promise<boolean> => commandRuns('redis-server', ['--version']);

const ping = (port: number): Promise<boolean> => firstLineStarts(port, '+PONG', 'PING\r\n');

export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 20_000 });
  return stdout;
}

export interface RedisServer {
  port: number;
  address: string;
  pid(): number;
  /** SIGKILL (no shutdown save), like a crash. */
  kill(): Promise<void>;
  /** Starts again on the same port (after kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface Spawned {
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnRedis(args: string[]): Spawned {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (err.length < 65536) err += s;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
    child.once('error', () => {
      live.delete(child);
      resolve();
    });
  });
  return { child, exited };
}

async function waitUp(port: number, s: Spawned, what: string): Promise<void> {
  let exited = false;
  void s.exited.then(() => (exited = true));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${what} on port ${port} exited at start`);
    if (await ping(port)) return;
    await sleep(25);
  }
  throw new Error(`${what} on port ${port} did not answer PING within 10 s`);
}

async function stopSpawned(s: Spawned | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s === undefined || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill(signal);
  const t = setTimeout(() => s.child.kill('SIGKILL'), 3000);
  await s.exited;
  clearTimeout(t);
}

function baseArgs(port: number, dir: string, extra: string[] = []): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...extra];
}

/** A standalone redis-server. `extra` are additional command-line config directives. */
export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-redis-'));
  dirs.add(dir);
  const port = await freePort();
  let cur: Spawned | undefined;
  const boot = async (): Promise<void> => {
    cur = spawnRedis(baseArgs(port, dir, extra));
    await waitUp(port, cur, 'redis-server');
  };
  await boot();
  return {
    port,
    address: `127.0.0.1:${port}`,
    pid: () => cur?.child.pid ?? -1,
    kill: () => stopSpawned(cur, 'SIGKILL'),
    restart: boot,
    async stop() {
      await stopSpawned(cur);
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

export interface RedisClusterSet {
  ports: number[];
  /** Seed addresses, comma-separated (one cluster_address entry). */
  address: string;
  stop(): Promise<void>;
}

/** A 3-master Redis Cluster without replicas. */
export async function startRedisCluster(): Promise<RedisClusterSet> {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-rcluster-'));
  dirs.add(dir);
  const nodes: { port: number; s: Spawned }[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    // The cluster bus gets a reserved port of its own: Redis's default (port + 10000) may be a port in use.
    const busPort = await freePort();
    const sub = mkdtempSync(join(dir, `n${port}-`));
    const s = spawnRedis(
      baseArgs(port, sub, [
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPort),
        '--cluster-config-file',
        join(sub, 'nodes.conf'),
        '--cluster-node-timeout',
        '2000',
      ]),
    );
    nodes.push({ port, s });
  }
  try {
    for (const n of nodes) await waitUp(n.port, n.s, 'cluster node');
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'], { timeout: 30_000 });
    // Wait until every node reports cluster_state:ok.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const states = await Promise.all(nodes.map((n) => redisCli(n.port, 'cluster', 'info')));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error('redis cluster did not reach cluster_state:ok');
      await sleep(100);
    }
  } catch (err) {
    // A node that failed to start, or a cluster that never formed: stop the nodes already running.
    await Promise.all(nodes.map((n) => stopSpawned(n.s)));
    throw err;
  }
  return {
    ports: nodes.map((n) => n.port),
    address: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    async stop() {
      await Promise.all(nodes.map((n) => stopSpawned(n.s)));
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

export interface SentinelSet {
  masterName: string;
  sentinelAddress: string;
  masterPort(): number;
  /**
   * Kills the current master and waits until the Sentinel reports the replica as the new master. With
   * `replicatedFirst`, writes are paused on the master (CLIENT PAUSE WRITE) and the kill waits until the replica
   * has everything the master acknowledged: replication is asynchronous, so otherwise the last writes before a
   * crash may be lost by Redis itself (writes sent during the pause never run: they fail like any write to a
   * dead master).
   */
  failover(opts?: { replicatedFirst?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** A master, one replica and one Sentinel (quorum 1, fast failover timeouts). */
export async function startSentinelSet(): Promise<SentinelSet> {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-rsentinel-'));
  dirs.add(dir);
  const masterName = 'gyremaster';
  const mPort = await freePort();
  const rPort = await freePort();
  const sPort = await freePort();
  const mDir = mkdtempSync(join(dir, 'm-'));
  const rDir = mkdtempSync(join(dir, 'r-'));
  const sDir = mkdtempSync(join(dir, 's-'));
  const master = spawnRedis(baseArgs(mPort, mDir));
  await waitUp(mPort, master, 'sentinel master');
  const replica = spawnRedis(baseArgs(rPort, rDir, ['--replicaof', '127.0.0.1', String(mPort)]));
  await waitUp(rPort, replica, 'sentinel replica');
  const conf = join(sDir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sPort}`,
      'bind 127.0.0.1',
      `dir ${sDir}`,
      'protected-mode no',
      `sentinel monitor ${masterName} 127.0.0.1 ${mPort} 1`,
      `sentinel down-after-milliseconds ${masterName} 1000`,
      `sentinel failover-timeout ${masterName} 5000`,
      `sentinel parallel-syncs ${masterName} 1`,
      '',
    ].join('\n'),
  );
  const sentinel = spawnRedis([conf, '--sentinel']);
  await waitUp(sPort, sentinel, 'sentinel');
  // Replica in sync before the set is used.
  const syncDeadline = Date.now() + 10_000;
  while (!(await redisCli(rPort, 'info', 'replication')).includes('master_link_status:up')) {
    if (Date.now() > syncDeadline) throw new Error('replica did not sync');
    await sleep(50);
  }
  let masterPort = mPort;
  const byPort = new Map<number, Spawned>([
    [mPort, master],
    [rPort, replica],
  ]);
  return {
    masterName,
    sentinelAddress: `127.0.0.1:${sPort}`,
    masterPort: () => masterPort,
    async failover(opts = {}) {
      const old = masterPort;
      if (opts.replicatedFirst === true) {
        await redisCli(old, 'client', 'pause', '30000', 'write');
        const offsetOf = (info: string, key: string): number => Number(new RegExp(`^${key}:(\\d+)`, 'm').exec(info)?.[1] ?? -1);
        const want = offsetOf(await redisCli(old, 'info', 'replication'), 'master_repl_offset');
        const replica = [...byPort.keys()].find((p) => p !== old)!;
        const until = Date.now() + 10_000;
        while (offsetOf(await redisCli(replica, 'info', 'replication'), 'slave_repl_offset') < want) {
          if (Date.now() > until) throw new Error('replica did not catch up before the failover');
          await sleep(20);
        }
      }
      await stopSpawned(byPort.get(old), 'SIGKILL');
      const deadline = Date.now() + 20_000;
      for (;;) {
        const out = await redisCli(sPort, 'sentinel', 'get-master-addr-by-name', masterName);
        const port = Number(out.trim().split('\n')[1]);
        if (port !== old && Number.isInteger(port)) {
          masterPort = port;
          // The promoted replica answers as master.
          if ((await redisCli(port, 'role')).startsWith('master')) return;
        }
        if (Date.now() > deadline) throw new Error('sentinel failover did not happen within 20 s');
        await sleep(100);
      }
    },
    async stop() {
      await Promise.all([stopSpawned(sentinel), stopSpawned(master), stopSpawned(replica)]);
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}
