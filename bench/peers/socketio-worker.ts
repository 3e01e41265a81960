// Worker thread of the Socket.IO driver: owns a slice of the Socket.IO client connections, connects and
// joins rooms on request, counts publications and their end-to-end latency inside a measure window.
import { parentPort } from 'node:worker_threads';
import { io, type Socket } from 'socket.io-client';
import { nowMs } from '../../loadtest/src/clock.js';
import { LatencyRecorder } from '../../loadtest/src/histogram.js';
import { channelOf, sendTimeOf, type FromWorker, type ToWorker } from './socketio-messages.js';

const port = parentPort;
if (port === null) throw new Error('socketio-worker must run in a worker thread');

const sockets: Socket[] = [];
let counting = false;
let deliveries = 0;
const latency = new LatencyRecorder();

function onPub(data: unknown): void {
  if (!counting) return;
  const t = sendTimeOf(data);
  if (t === null) return;
  deliveries++;
  latency.recordMs(nowMs() - t);
}

/** One connect + join; resolves with time-to-subscribed in ms, or null on failure/timeout. */
function connectOne(url: string, channel: string, timeoutMs: number): Promise<number | null> {
  const start = nowMs();
  return new Promise((resolve) => {
    const socket = io(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
      auth: { token: 'bench' },
    });
    sockets.push(socket);
    let settled = false;
    const settle = (v: number | null): void => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    socket.on('pub', onPub);
    socket.once('connect_error', () => settle(null));
    socket.once('connect', () => {
      socket.timeout(timeoutMs).emit('subscribe', channel, (err: Error | null, res: { ok?: boolean } | undefined) => {
        settle(err === null && res?.ok === true ? nowMs() - start : null);
      });
    });
  });
}

async function connectAll(msg: Extract<ToWorker, { type: 'connect' }>): Promise<FromWorker> {
  const tts = new LatencyRecorder();
  let next = 0;
  let subscribed = 0;
  let failures = 0;
  const firstStartMs = nowMs();
  let lastDoneMs = firstStartMs;
  const lane = async (): Promise<void> => {
    while (next < msg.count) {
      const i = msg.first + next++;
      const ms = await connectOne(msg.url, channelOf(i, msg.channels), msg.timeoutMs);
      lastDoneMs = nowMs();
      if (ms === null) failures++;
      else {
        subscribed++;
        tts.recordMs(ms);
      }
    }
  };
  const lanes: Promise<void>[] = [];
  for (let k = 0; k < Math.max(1, Math.min(msg.concurrency, msg.count)); k++) lanes.push(lane());
  await Promise.all(lanes);
  return { type: 'connected', subscribed, failures, firstStartMs, lastDoneMs, tts: tts.drain() };
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'connect':
      void connectAll(msg).then((r) => port.postMessage(r));
      break;
    case 'stage-begin':
      counting = true;
      deliveries = 0;
      latency.reset();
      break;
    case 'report':
      if (msg.final) counting = false;
      port.postMessage({ type: 'report', deliveries, latency: msg.final ? latency.drain() : null } satisfies FromWorker);
      break;
    case 'close':
      for (const s of sockets) s.disconnect();
      sockets.length = 0;
      port.postMessage({ type: 'closed' } satisfies FromWorker);
      port.close();
      break;
  }
});
