// A floor for gyre-bench measurements: the least work a server can do per client, on bare `ws` (no
// deflate, no UTF-8 check). It answers the first frame with a canned connect (+ subscribe) reply without
// parsing JSON or tokens, and otherwise only keeps sockets open. Running gyre-bench against it on the same
// machine shows what the generator itself costs; a real server's numbers are only meaningful above it.
// Not a Centrifugo implementation and never a benchmark target for claims about Gyre.
//   node dist/loadtest/src/floor-server.js [--port 0] [--host 127.0.0.1]   (prints "listening <port>")
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';

const CONNECT_ONLY = Buffer.from('{"id":1,"connect":{"client":"floor","version":"floor"}}');
const CONNECT_SUBSCRIBE = Buffer.from('{"id":1,"connect":{"client":"floor","version":"floor"}}\n{"id":2,"subscribe":{}}');
const NEWLINE = 0x0a;

export interface FloorServer {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

export async function startFloorServer(port = 0, host = '127.0.0.1'): Promise<FloorServer> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false, skipUTF8Validation: true, clientTracking: true });
  wss.on('connection', (ws) => {
    let first = true;
    ws.on('message', (data: Buffer) => {
      if (!first) return;
      first = false;
      ws.send(data.includes(NEWLINE) ? CONNECT_SUBSCRIBE : CONNECT_ONLY, { binary: false });
    });
  });
  await new Promise<void>((r) => server.listen({ port, host, backlog: 65535 }, r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => wss.clients.size,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, d: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? (process.argv[i + 1] ?? d) : d;
  };
  const host = arg('--host', '127.0.0.1');
  if (!host.startsWith('127.') && host !== '::1') throw new Error('floor-server listens on loopback only');
  const s = await startFloorServer(Number(arg('--port', '0')), host);
  process.stdout.write(`listening ${s.port}\n`);
  const stop = (): void => void s.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
