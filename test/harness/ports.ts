// Free loopback TCP ports for servers started by tests: listen on port 0, read the port, close, hand it out.
import { createServer } from 'node:net';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not read the listening port'));
        return;
      }
      const port = addr.port;
      srv.close(() => resolve(port));
    });
  });
}
