// Runs a load-generator process to completion with a hard time limit, streaming its stderr line by line.
import { spawn } from 'node:child_process';

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  /** Last ~64 KiB of stderr. */
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunProcessOptions {
  readonly cwd: string;
  readonly timeoutMs: number;
  /** Called for each complete stderr line, as it arrives (progress/stage markers). */
  readonly onStderrLine?: (line: string) => void;
}

const CAP = 64 * 1024;

export function runProcess(cmd: string, args: readonly string[], opts: RunProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      stdout += s;
      if (stdout.length > 16 * CAP) stdout = stdout.slice(-16 * CAP);
    });
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (stderr.length > CAP) stderr = stderr.slice(-CAP);
      if (opts.onStderrLine === undefined) return;
      partial += s;
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        opts.onStderrLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
        nl = partial.indexOf('\n');
      }
    });
    const onParentExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', onParentExit);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, opts.timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      process.removeListener('exit', onParentExit);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      process.removeListener('exit', onParentExit);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}\n${err.message}`, timedOut });
    });
  });
}

/** The most telling line of a failed process's stderr: the last line mentioning an error, else the last line. */
export function keyErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i] ?? '';
    if (/error/i.test(l) && !/^at /.test(l) && !/triggerUncaughtException/.test(l)) return l.slice(0, 300);
  }
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
