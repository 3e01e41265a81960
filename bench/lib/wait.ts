// Readiness waiting: poll until a TCP port accepts connections, bounded in time.
import { connect } from 'node:net';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean): void => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Gyre's start-up port check (src/cli/startup.ts) listens on the real port for an instant before the warm-up, and
 * a probe landing then saw a server that was not there yet: a 20,000 burst then got ECONNREFUSED for every client
 * (BENCHMARKS.md §11.2.1). So the port must accept twice, this far apart (the warm-up takes longer).
 */
const CONFIRM_MS = 250;

/**
 * Resolves once host:port accepts a TCP connection, and again CONFIRM_MS later; rejects after timeoutMs or as
 * soon as `alive()` says the process behind it has gone.
 */
export async function waitForTcp(
  host: string,
  port: number,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`process exited before ${host}:${port} was ready`);
    if (await tryConnect(host, port)) {
      await sleep(CONFIRM_MS);
      if (await tryConnect(host, port)) return;
    }
    await sleep(50);
  }
  throw new Error(`${host}:${port} not ready after ${timeoutMs} ms`);
}
