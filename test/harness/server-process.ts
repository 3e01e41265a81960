// One long-running server process of a test harness (PostgreSQL, Kafka): spawned with its stderr kept (64 KiB),
// polled until ready, stopped by its PID (a signal, then SIGKILL after a grace period). Every process and temp
// dir is also killed/removed when the test process exits, so a failing test never leaves one behind.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait.js';

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

process.once('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A temp dir removed at process exit unless removed before with removeTempDir. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

export interface ServerProcess {
  pid(): number;
  stderr(): string;
  /** Polls `ready` every 50–100 ms until true; throws (with stderr) when the process exits or `timeoutMs` passes. */
  waitReady(what: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  /** `signal`, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

export function startServerProcess(cmd: string, args: string[], opts: SpawnOptions): ServerProcess {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (err.length < 65536) err += s;
  });
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    const done = (): void => {
      gone = true;
      live.delete(child);
      resolve();
    };
    child.once('exit', done);
    child.once('error', done);
  });
  return {
    pid: () => child.pid ?? -1,
    stderr: () => err,
    async waitReady(what, ready, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (gone) throw new Error(`${what} exited at start:\n${err}`);
        if (await ready()) return;
        if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs} ms:\n${err}`);
        await sleep(50);
      }
    },
    async stop(signal, graceMs) {
      if (gone) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
