// Server CPU cost of an open admin Live page: a Gyre process (node bin/gyre.js) with 1000 idle connections,
// its CPU time (utime+stime from /proc/<pid>/stat) over 30 s with no admin page, then over 30 s with a Chromium
// page on Live. Run: node --import tsx bench/admin-live-cpu.ts [seconds]
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { startGyre } from '../test/harness/gyre.js';
import { TEST_HMAC_SECRET, connToken } from '../test/harness/tokens.js';

const SECONDS = Number(process.argv[2] ?? '30');
const TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

async function measure(pid: number): Promise<number> {
  const a = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  return cpuSeconds(pid) - a;
}

const gyre = await startGyre(
  { client: { token: { hmac_secret_key: TEST_HMAC_SECRET } }, admin: { enabled: true, password: 'p', secret: 's' }, http_server: { warmup_connections: 0 } },
  { bin: true },
);
const token = await connToken({ sub: 'idle' });
const sockets: WebSocket[] = [];
try {
  await Promise.all(
    Array.from({ length: 1000 }, () => {
      const ws = new WebSocket(gyre.url);
      sockets.push(ws);
      return new Promise<void>((resolve) => {
        ws.once('open', () => ws.send(JSON.stringify({ id: 1, connect: { token } })));
        ws.once('message', () => resolve());
      });
    }),
  );
  await new Promise((r) => setTimeout(r, 3000));
  const idle = await measure(gyre.pid);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${gyre.baseUrl}/admin/`);
    await page.fill('#password', 'p');
    await page.click('#login button');
    await page.click('#nav-live');
    await page.locator('#chart-connections[data-samples="2"]').waitFor();
    const live = await measure(gyre.pid);
    console.log(`server CPU over ${SECONDS} s, 1000 idle connections: no admin page ${idle.toFixed(2)} s (${((idle / SECONDS) * 100).toFixed(2)}%), Live page open ${live.toFixed(2)} s (${((live / SECONDS) * 100).toFixed(2)}%), cost ${(((live - idle) / SECONDS) * 100).toFixed(2)}% of one core`);
  } finally {
    await browser.close();
  }
} finally {
  for (const ws of sockets) ws.terminate();
  await gyre.stop();
}
