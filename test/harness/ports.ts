// Free loopback TCP ports for servers started by tests.
//
// Ports come from 12000-31999, below the kernel's ephemeral range (32768-60999 by default), so that no client
// socket of the suite can take a port between the moment it is handed out and the moment the server binds it.
// The test files run in parallel processes: a port is reserved across processes by creating a marker file with
// O_EXCL in a shared folder, and a reservation older than RESERVATION_MS may be taken again. A port that does not
// bind (someone else uses it) is skipped.
import { closeSync, mkdirSync, openSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FIRST = 12_000;
const COUNT = 20_000;
const RESERVATION_MS = 20 * 60_000;
const dir = join(tmpdir(), 'gyre-test-ports');
let cursor = Math.floor(Math.random() * COUNT);

function reserve(port: number): boolean {
  const marker = join(dir, String(port));
  try {
    closeSync(openSync(marker, 'wx'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  try {
    if (Date.now() - statSync(marker).mtimeMs < RESERVATION_MS) return false;
    const now = new Date();
    utimesSync(marker, now, now);
    return true;
  } catch {
    return false;
  }
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  mkdirSync(dir, { recursive: true });
  for (let tries = 0; tries < COUNT; tries++) {
    const port = FIRST + (cursor++ % COUNT);
    if (!reserve(port)) continue;
    if (await bindable(port, host)) return port;
  }
  throw new Error(`no free port in ${FIRST}-${FIRST + COUNT - 1}`);
}
