// Real nats-server processes for tests: one server on a free loopback port (restartable on the same port), stopped
// by PID (and SIGKILLed on process exit). Ready once it answers the NATS INFO greeting.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './ports.js';
import { commandRuns, firstLineStarts } from './probe.js';
import { sleep } from './wait.js';

const live = new Set<ChildProcess>();

process.once('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** True when nats-server can be started here (tests skip with a reason otherwise). */
export const natsAvailable = (): Promise<boolean> => commandRuns('nats-server', ['--version']);

/** True once something on `port` greets with NATS's `INFO {...}` line. */
const greets = (port: number): Promise<boolean> => firstLineStarts(port, 'INFO ');

export interface NatsServer {
  port: number;
  url: string;
  pid(): number;
  /** SIGKILL, like a crash. */
  kill(): Promise<void>;
  /** Starts again on the same port (after kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface Spawned {
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnNats(port: number): Spawned {
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-m', '0'], { stdio: ['ignore', 'ignore', 'ignore'] });
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    const gone = (): void => {
      live.delete(child);
      resolve();
    };
    child.once('exit', gone);
    child.once('error', gone);
  });
  return { child, exited };
}

async function stopSpawned(s: Spawned | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s === undefined || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill(signal);
  const t = setTimeout(() => s.child.kill('SIGKILL'), 3000);
  await s.exited;
  clearTimeout(t);
}

export async function startNats(): Promise<NatsServer> {
  const port = await freePort();
  let cur: Spawned | undefined;
  const boot = async (): Promise<void> => {
    const s = spawnNats(port);
    cur = s;
    let exited = false;
    void s.exited.then(() => (exited = true));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`nats-server on port ${port} exited at start`);
      if (await greets(port)) return;
      await sleep(25);
    }
    throw new Error(`nats-server on port ${port} did not greet within 10 s`);
  };
  await boot();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    pid: () => cur?.child.pid ?? -1,
    kill: () => stopSpawned(cur, 'SIGKILL'),
    restart: boot,
    stop: () => stopSpawned(cur),
  };
}
