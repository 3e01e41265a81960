// Free loopback TCP ports for servers that cannot listen on port 0 themselves (Centrifugo, child processes
// whose port we must know before they start).
import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** Asks the kernel for a free port on 127.0.0.1, then releases it. Racy by nature; callers retry on EADDRINUSE. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
