// Socket.IO 4 peer doing the benchmark's job the Socket.IO way: a room per channel, clients join with
// emit('subscribe', channel, ack), and POST /api/publish calls io.to(channel).emit('pub', data) (Socket.IO
// encodes a broadcast once for the room). Socket.IO's own heartbeat (pingInterval) plays the app-level ping.
// Driven by bench/peers/socketio-client-driver.ts, not by gyre-bench (which speaks the Centrifugo protocol).
// Run: node --import tsx bench/peers/socketio.ts --port 8000 --api-key KEY [--ping 25]
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { exitOnSignals, handlePublish, parsePeerFlags } from './common.js';

const flags = parsePeerFlags(process.argv.slice(2));

interface ClientToServer {
  subscribe: (channel: unknown, ack?: (res: { ok: boolean }) => void) => void;
}
interface ServerToClient {
  pub: (data: unknown) => void;
}

const http = createServer((req, res) => {
  // Socket.IO answers its own path (/socket.io/) before this listener sees anything else.
  if (req.url?.startsWith('/socket.io/') === true) return;
  const handled = handlePublish(req, res, flags.apiKey, (p) => {
    io.to(p.channel).emit('pub', p.data);
  });
  if (!handled) res.writeHead(404).end();
});

const io = new Server<ClientToServer, ServerToClient>(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  pingInterval: flags.pingSec * 1000,
  pingTimeout: 20_000,
  connectTimeout: 45_000,
  maxHttpBufferSize: 64 * 1024,
});

io.on('connection', (socket) => {
  socket.on('subscribe', (channel, ack) => {
    if (typeof channel !== 'string' || channel === '') {
      if (typeof ack === 'function') ack({ ok: false });
      return;
    }
    void socket.join(channel);
    if (typeof ack === 'function') ack({ ok: true });
  });
});

http.listen({ host: flags.host, port: flags.port, backlog: 4096 });

exitOnSignals(async () => {
  io.disconnectSockets(true);
  await io.close();
});
