// Small checks the server harnesses share: whether a server binary runs here at all (tests skip with a reason
// otherwise), and a one-line TCP probe for readiness (a greeting, or the answer to one command).
import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** True when `cmd args…` runs and exits 0 (e.g. `redis-server --version`). */
export async function commandRuns(cmd: string, args: readonly string[]): Promise<boolean> {
  try {
    await run(cmd, [...args]);
    return true;
  } catch {
    return false;
  }
}

/**
 * True once the server on 127.0.0.1:`port` answers with a first line starting with `expect`; `send` is written on
 * connect (omit it for servers that greet first). False on error, close or 500 ms of silence.
 */
export async function firstLineStarts(port: number, expect: string, send?: string): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    if (send !== undefined) sock.once('connect', () => sock.write(send));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith(expect));
    });
  });
}
