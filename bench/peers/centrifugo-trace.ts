// Records real Centrifugo v6 wire frames (JSON protocol over WebSocket + HTTP API) into
// bench/peers/centrifugo-wire-trace.md, as the oracle for Gyre's and the peers' framing.
// Run: node --import tsx bench/peers/centrifugo-trace.ts   (≈ 40–60 s: it waits for two server pings)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { spawnChild } from '../lib/children.js';
import { freePort, LOOPBACK } from '../lib/ports.js';
import { centrifugoBinary, REPO_ROOT } from '../lib/servers.js';
import { waitForTcp } from '../lib/wait.js';
import { tmpdir } from 'node:os';

interface Entry {
  readonly dir: '→' | '←' | 'close' | 'HTTP →' | 'HTTP ←';
  readonly text: string;
  readonly ms: number;
}

const t0 = Date.now();
const log: Entry[] = [];
const note = (dir: Entry['dir'], text: string): void => {
  log.push({ dir, text, ms: Date.now() - t0 });
};

async function token(secret: string, sub: string): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

function open(url: string): Promise<{ ws: WebSocket; next: (timeoutMs: number) => Promise<string | null> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const queue: string[] = [];
    let waiter: ((s: string | null) => void) | null = null;
    ws.on('message', (data: Buffer) => {
      const s = data.toString('utf8');
      note('←', s);
      if (waiter !== null) {
        const w = waiter;
        waiter = null;
        w(s);
      } else queue.push(s);
    });
    ws.on('close', (code, reason) => note('close', `code=${code} reason=${JSON.stringify(reason.toString())}`));
    ws.once('open', () =>
      resolve({
        ws,
        next: (timeoutMs) =>
          new Promise((res) => {
            const q = queue.shift();
            if (q !== undefined) return res(q);
            const timer = setTimeout(() => {
              waiter = null;
              res(null);
            }, timeoutMs);
            waiter = (s) => {
              clearTimeout(timer);
              res(s);
            };
          }),
      }),
    );
    ws.once('error', reject);
  });
}

function send(ws: WebSocket, text: string): void {
  note('→', text);
  ws.send(text);
}

async function publish(port: number, key: string, body: string): Promise<void> {
  note('HTTP →', `POST /api/publish  X-API-Key: ${key}\n${body}`);
  const res = await fetch(`http://${LOOPBACK}:${port}/api/publish`, {
    method: 'POST',
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body,
  });
  note('HTTP ←', `${res.status} ${res.headers.get('content-type') ?? ''}\n${await res.text()}`);
}

async function main(): Promise<void> {
  const port = await freePort();
  const cfg = {
    client: { token: { hmac_secret_key: 's' } },
    http_api: { key: 'k' },
    channel: { without_namespace: { allow_subscribe_for_client: true } },
    http_server: { address: LOOPBACK, port },
  };
  const dir = mkdtempSync(join(tmpdir(), 'centrifugo-trace-'));
  const cfgFile = join(dir, 'config.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const bin = centrifugoBinary();
  const child = spawnChild('centrifugo', bin, ['-c', cfgFile]);
  try {
    await waitForTcp(LOOPBACK, port, 15_000, () => child.alive());
    const url = `ws://${LOOPBACK}:${port}/connection/websocket`;
    const c = await open(url);
    send(c.ws, JSON.stringify({ id: 1, connect: { token: await token('s', 'user1'), name: 'trace' } }));
    await c.next(2000);
    send(c.ws, JSON.stringify({ id: 2, subscribe: { channel: 'news' } }));
    await c.next(2000);
    await publish(port, 'k', JSON.stringify({ channel: 'news', data: { text: 'hello' } }));
    await c.next(2000);
    // Two commands in one frame (newline-delimited), one of them an error (already subscribed = 105).
    send(c.ws, `${JSON.stringify({ id: 3, subscribe: { channel: 'other' } })}\n${JSON.stringify({ id: 4, subscribe: { channel: 'news' } })}`);
    await c.next(2000);
    await c.next(300);
    await publish(port, 'wrong', JSON.stringify({ channel: 'news', data: 1 }));
    await publish(port, 'k', JSON.stringify({ channel: '', data: 1 }));
    // Wait for the server ping (default client.ping_interval 25 s), answer with a pong.
    // Two pings, to show the first one's offset and the interval.
    for (let i = 0; i < 2; i++) {
      const ping = await c.next(30_000);
      if (ping === '{}') send(c.ws, '{}');
    }
    await c.next(500);
    c.ws.close(1000);
    await new Promise((r) => setTimeout(r, 200));
    // A connection with a bad token.
    const bad = await open(url);
    send(bad.ws, JSON.stringify({ id: 1, connect: { token: 'not-a-jwt' } }));
    await bad.next(2000);
    await new Promise((r) => setTimeout(r, 300));
    bad.ws.terminate();
  } finally {
    await child.stop();
  }
  const version = /"version":"([^"]+)"/.exec(child.output())?.[1] ?? 'unknown';
  writeReport(bin, version, cfg);
}

const OBSERVATIONS: readonly string[] = [
  'Connect reply: `client` is a UUID v4, `version` is "<build version> OSS" (a plain `go install` build says "0.0.0 OSS"; install with scripts/install-centrifugo.sh to get "6.9.1 OSS"), `expires`+`ttl` appear because the token has `exp`, then `ping` 25 and `pong` true. No `data`, no `node` field.',
  'Subscribe reply without recovery/positioning is exactly `{"id":N,"subscribe":{}}`.',
  'Publication push: `{"push":{"channel":…,"pub":{"data":…}}}`, with no offset/epoch (channel has no history) and no `info` (published through the API). `data` is the API\'s raw JSON, byte-for-byte.',
  'Replies to several commands sent in one frame come back either newline-joined in ONE frame (`{…}⏎{…}`) or as separate frames: both were seen in two runs of this script. Clients must accept both.',
  'Server ping is the frame `{}`; the pong is the client frame `{}`, with no answer. The FIRST ping came 12.7–13.4 s after connect in three runs (not 25 s), the next one exactly 25 s after it: the first ping is offset, then the schedule is fixed at ping_interval.',
  'HTTP API: wrong key ⇒ 401 with an empty body and no content-type; empty channel ⇒ 200 with `{"error":{"code":107,"message":"bad request"}}`; success ⇒ 200 `{"result":{}}`, content-type application/json.',
  'Bad connect token ⇒ no reply; the WebSocket is closed with code 3500 reason "invalid token".',
];

function writeReport(bin: string, version: string, cfg: unknown): void {
  const lines: string[] = [];
  lines.push('# Real Centrifugo v6 wire trace (JSON protocol, WebSocket)');
  lines.push('');
  lines.push(`Recorded by \`node --import tsx bench/peers/centrifugo-trace.ts\` against \`${bin}\` (module`);
  lines.push(`github.com/centrifugal/centrifugo/v6@v6.9.1, reported version ${version}), on ${new Date().toISOString()}.`);
  lines.push('Client: raw `ws` (no centrifuge-js). Token: HS256 `{"sub":"user1","exp":…}` signed with `s`.');
  lines.push('');
  lines.push('Config (JSON):');
  lines.push('```json');
  lines.push(JSON.stringify(cfg));
  lines.push('```');
  lines.push('');
  lines.push('Each row is one WebSocket text frame (or HTTP request/response) exactly as sent/received; `⏎` marks a');
  lines.push('newline *inside* a frame. `t` is ms since the trace started.');
  lines.push('');
  lines.push('| t (ms) | dir | frame |');
  lines.push('|---:|:---:|---|');
  for (const e of log) {
    const cell = e.text.replace(/\|/g, '\\|').replace(/\n/g, '⏎');
    lines.push(`| ${e.ms} | ${e.dir} | \`${cell}\` |`);
  }
  lines.push('');
  lines.push('## Observations (from this and earlier recordings of the same script)');
  lines.push('');
  for (const o of OBSERVATIONS) lines.push(`- ${o}`);
  lines.push('');
  writeFileSync(join(REPO_ROOT, 'bench/peers/centrifugo-wire-trace.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n'));
}

await main();
