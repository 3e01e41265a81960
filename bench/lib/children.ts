// Child server processes for benchmarks: spawn with captured output, stop with TERM then KILL, and a registry
// so that every child is killed when the orchestrator ends — normally, on error, or on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAllSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export interface Child {
  readonly pid: number;
  readonly name: string;
  /** Last ~64 KiB of stdout+stderr, for error messages. */
  output(): string;
  alive(): boolean;
  /** TERM, then KILL after graceMs; resolves once the process has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const OUTPUT_CAP = 64 * 1024;

export function spawnChild(name: string, command: string, args: readonly string[], opts: SpawnOptions = {}): Child {
  installHooks();
  const child = spawn(command, args, {
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: spawn failed (${command})`);
  const pid = child.pid;
  live.add(child);
  let out = '';
  const collect = (buf: Buffer): void => {
    out += buf.toString('utf8');
    if (out.length > OUTPUT_CAP) out = out.slice(out.length - OUTPUT_CAP);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
    child.once('error', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
  });
  return {
    pid,
    name,
    output: () => out,
    alive: () => !exited,
    async stop(graceMs = 5000): Promise<void> {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/** Kills every child still running (used by the orchestrator's finally block). */
export async function stopAll(): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const child of [...live]) {
    pending.push(
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
    );
  }
  await Promise.all(pending);
}
