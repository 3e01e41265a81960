// The Writer's share of one fan-out row, without sockets: 2,000 writers (one per connection), each publication
// enqueued to 100 of them and flushed by the shared setImmediate into a transport whose write only reads the
// frame's length (the socket write itself is what bench/profile/write-row.mjs measures). Compares two builds'
// core/writer.js in one process, alternating, and prints ns of CPU per delivery (median of the rounds).
//   node bench/profile/writer-row.mjs BEFORE_DIST AFTER_DIST
import { setImmediate } from 'node:timers';
import { TextEncoder } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [beforeDist, afterDist] = process.argv.slice(2);
const CONNECTIONS = 2000;
const PER_PUB = 100;
const PUBS = 2000;
const ROUNDS = 7;
const load = async (dist) => {
  const w = await import(pathToFileURL(resolve(dist, 'src/core/writer.js')).href);
  const p = await import(pathToFileURL(resolve(dist, 'src/protocol/index.js')).href);
  return { Writer: w.Writer, codec: p.codecFor('json') };
};
const builds = { before: await load(beforeDist), after: await load(afterDist) };

class NullTransport {
  info = { name: 'websocket', protocol: 'json', unidirectional: false, remoteAddress: '', headers: {} };
  socket = { writableLength: 0, _pad: new Array(8).fill(0) };
  written = 0;
  get bufferedBytes() {
    return this.socket.writableLength;
  }
  write(frame) {
    this.written += frame.byteLength;
  }
  onceDrained(cb) {
    setImmediate(cb);
  }
  pauseReading() {}
  resumeReading() {}
  close() {}
}

function setup({ Writer, codec }) {
  const writers = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    writers.push(new Writer({ transport: new NullTransport(), codec, maxQueueBytes: 1 << 20, onOverflow: () => undefined }));
  }
  return writers;
}
const sets = { before: setup(builds.before), after: setup(builds.after) };
const turn = () => new Promise((r) => setImmediate(r));

async function run(name) {
  const writers = sets[name];
  let cpu = 0;
  for (let p = 0; p < PUBS; p++) {
    const msg = new TextEncoder().encode(`{"push":{"channel":"ch${p % 20}","pub":{"data":{"seq":${p},"pad":"${'x'.repeat(90)}"}}}}`);
    const base = (p % 20) * PER_PUB;
    const c0 = process.cpuUsage();
    for (let i = 0; i < PER_PUB; i++) writers[(base + i * 7) % CONNECTIONS].enqueue(msg);
    await turn();
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
  }
  return (cpu * 1000) / (PUBS * PER_PUB);
}

const results = { before: [], after: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const name of r % 2 === 0 ? ['before', 'after'] : ['after', 'before']) results[name].push(await run(name));
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const name of ['before', 'after']) {
  console.log(`${name}: ${med(results[name]).toFixed(0)} ns CPU per delivery (rounds ${results[name].map((x) => x.toFixed(0)).join(' ')})`);
}
