// Worker thread of bench/fairness.bench.ts: the load whose effect on other clients is measured, kept off the
// main thread so that reading 100,000 replies does not delay the probes' own timing.
//   flood: one WebSocket client writes `frames` frames of `perFrame` rpc commands in one TCP write (corked),
//          then reads every reply; done when all replies arrived, the socket closed, or the deadline passed.
//   batch: one POST /api/batch of `commands` info commands; the response is streamed and its replies counted.
// Messages to the parent: {event:'started'} once the load is on the wire, then {event:'done', ...}.
import { request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

export type LoadJob =
  | { mode: 'flood'; url: string; token: string; frames: number; perFrame: number; timeoutMs: number }
  | { mode: 'batch'; apiUrl: string; apiKey: string; commands: number; timeoutMs: number };

export type LoadEvent =
  | { event: 'started' }
  | { event: 'done'; ms: number; replies: number; expected: number; closeCode: number | null; status: number | null; error: string | null };

function post(m: LoadEvent): void {
  parentPort?.postMessage(m);
}

function rpcFrame(firstId: number, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`{"id":${firstId + i},"rpc":{"method":"ping"}}`);
  return lines.join('\n');
}

/** Counts occurrences of `needle` across chunks (a match may straddle two chunks). */
class Counter {
  count = 0;
  private tail = '';
  constructor(private readonly needle: string) {}
  feed(chunk: string): void {
    const s = this.tail + chunk;
    for (let i = s.indexOf(this.needle); i !== -1; i = s.indexOf(this.needle, i + this.needle.length)) this.count++;
    this.tail = s.slice(Math.max(0, s.length - this.needle.length + 1));
  }
}

async function flood(job: Extract<LoadJob, { mode: 'flood' }>): Promise<void> {
  const ws = new WebSocket(job.url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  const expected = job.frames * job.perFrame;
  const frames: string[] = [];
  for (let f = 0; f < job.frames; f++) frames.push(rpcFrame(2 + f * job.perFrame, job.perFrame));
  let replies = -1; // the connect reply is not counted
  let closeCode: number | null = null;
  let started = 0;
  let error: string | null = null;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      error = 'timeout';
      resolve();
    }, job.timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      resolve();
    };
    ws.on('error', (err) => {
      error = err.message;
    });
    ws.on('close', (code: number) => {
      closeCode = code;
      finish();
    });
    ws.on('message', (data: Buffer) => {
      let n = 1;
      for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) n++;
      const first = replies < 0;
      replies += n;
      if (first) {
        // Connected: write every frame in one go.
        const sock = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
        sock.cork();
        for (const f of frames) ws.send(f);
        started = performance.now();
        sock.uncork();
        post({ event: 'started' });
      } else if (replies >= expected) {
        finish();
      }
    });
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, connect: { token: job.token } })));
  });
  const ms = started > 0 ? performance.now() - started : 0;
  ws.terminate();
  post({ event: 'done', ms, replies: Math.max(0, replies), expected, closeCode, status: null, error });
}

async function batch(job: Extract<LoadJob, { mode: 'batch' }>): Promise<void> {
  const body = Buffer.from(`{"commands":[${'{"info":{}},'.repeat(job.commands - 1)}{"info":{}}]}`);
  const counter = new Counter('"nodes"');
  let status: number | null = null;
  let error: string | null = null;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      error = 'timeout';
      req.destroy();
      resolve();
    }, job.timeoutMs);
    const req = request(`${job.apiUrl}/batch`, {
      method: 'POST',
      headers: { 'X-API-Key': job.apiKey, 'Content-Type': 'application/json', 'Content-Length': body.byteLength },
    });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => counter.feed(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve();
      });
      res.on('error', (err) => {
        error = err.message;
        clearTimeout(timer);
        resolve();
      });
    });
    req.on('error', (err) => {
      error = err.message;
      clearTimeout(timer);
      resolve();
    });
    req.end(body);
    post({ event: 'started' });
  });
  const ms = performance.now() - started;
  post({ event: 'done', ms, replies: counter.count, expected: job.commands, closeCode: null, status, error });
}

const job = workerData as LoadJob;
if (job.mode === 'flood') await flood(job);
else await batch(job);
