// gyre-shared (client/) against the plain official client, in real Chromium against a real Gyre process:
//  A. 8 tabs in one browser context: server connections (API info) and WebSocket handshakes (TCP accepts
//     counted by a loopback proxy in front of Gyre).
//  B. C browser contexts × T tabs, connected and subscribed; the proxy drops every connection and refuses new
//     ones for DOWN_MS, then accepts again: arrivals per second at the server after it is back.
// Run: node scripts/build-client.mjs && node --import tsx bench/shared-tabs.bench.ts [contexts=50] [tabs=4]
// Bounded: at most 60 contexts × 8 tabs, every wait has a deadline, everything started is stopped.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort } from '../test/harness/ports.js';
import { sleep, waitFor } from '../test/harness/wait.js';
import { buildClient, ev, launchChromium, startServer, startStatic } from '../test/browser/harness.js';

const CONTEXTS = Math.max(1, Math.min(60, Number(process.argv[2] ?? 50) || 50));
const TABS = Math.max(1, Math.min(8, Number(process.argv[3] ?? 4) || 4));
const DOWN_MS = 3000;
const WATCH_MS = 25_000;

/** A TCP proxy that counts accepted connections (one per WebSocket handshake) and can play "server down". */
class CountingProxy {
  accepts: number[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  async listen(): Promise<void> {
    const server = createServer((client) => {
      this.accepts.push(Date.now());
      const upstream = connect(this.target, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Stops listening and cuts every proxied connection (the server "went away"). */
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

interface Side {
  plain: boolean;
  label: string;
}

async function openTabs(
  browser: Browser,
  pageUrl: string,
  wsUrl: string,
  contexts: number,
  tabs: number,
  side: Side,
): Promise<{ ctxs: BrowserContext[]; pages: Page[] }> {
  const ctxs: BrowserContext[] = [];
  const pages: Page[] = [];
  for (let c = 0; c < contexts; c++) {
    const ctx = await browser.newContext();
    ctxs.push(ctx);
    for (let t = 0; t < tabs; t++) {
      const page = await ctx.newPage();
      await page.goto(pageUrl);
      const o = { withGetToken: true, user: `u${c}`, plain: side.plain };
      await page.evaluate(`T.init(${JSON.stringify(wsUrl)}, ${JSON.stringify(o)}); T.sub('rec:bench-${c}-${t}'); T.sub('rec:all'); T.c.connect();`);
      pages.push(page);
    }
  }
  await waitFor(
    async () => {
      for (const p of pages) if ((await ev<string>(p, 'T.c.state')) !== 'connected') return false;
      return true;
    },
    { what: `${side.label}: every tab connected`, timeoutMs: 120_000, intervalMs: 250 },
  );
  return { ctxs, pages };
}

function perSecond(ts: number[], from: number): number[] {
  const out: number[] = [];
  for (const t of ts) {
    const i = Math.floor((t - from) / 1000);
    if (i < 0) continue;
    while (out.length <= i) out.push(0);
    out[i]!++;
  }
  return out;
}

async function main(): Promise<void> {
  buildClient();
  const web = await startStatic();
  const server = await startServer('gyre', web.origin);
  const target = Number(new URL(server.url).port);
  const browser = await launchChromium();
  const rows: string[] = [];
  try {
    // ---- A: 8 tabs, one context ----
    for (const side of [
      { plain: true, label: 'plain centrifuge' },
      { plain: false, label: 'gyre-shared' },
    ] satisfies Side[]) {
      const proxy = new CountingProxy(await freePort(), target);
      await proxy.listen();
      const { ctxs } = await openTabs(browser, web.pageUrl, `ws://127.0.0.1:${proxy.port}/connection/websocket`, 1, 8, side);
      await sleep(500);
      const clients = await server.clients();
      rows.push(`| A | 8 tabs, 1 context | ${side.label} | ${clients} connections | ${proxy.accepts.length} handshakes |`);
      for (const c of ctxs) await c.close();
      await proxy.down();
      await waitFor(async () => (await server.clients()) === 0, { what: 'clients gone', timeoutMs: 10_000 });
    }
    // ---- B: storm ----
    for (const side of [
      { plain: true, label: 'plain centrifuge' },
      { plain: false, label: 'gyre-shared' },
    ] satisfies Side[]) {
      const proxy = new CountingProxy(await freePort(), target);
      await proxy.listen();
      const t0 = Date.now();
      const { ctxs } = await openTabs(browser, web.pageUrl, `ws://127.0.0.1:${proxy.port}/connection/websocket`, CONTEXTS, TABS, side);
      const openMs = Date.now() - t0;
      const before = await server.clients();
      await proxy.down();
      await sleep(DOWN_MS);
      proxy.accepts = [];
      const back = Date.now();
      await proxy.listen();
      await waitFor(async () => (await server.clients()) >= before, { what: `${side.label}: all back`, timeoutMs: WATCH_MS, intervalMs: 100 }).catch(
        () => undefined,
      );
      const allBackMs = Date.now() - back;
      const ps = perSecond(proxy.accepts, back);
      const peak = Math.max(0, ...ps);
      rows.push(
        `| B | ${CONTEXTS} contexts × ${TABS} tabs | ${side.label} | ${before} connections before | ${proxy.accepts.length} arrivals, peak ${peak}/s, all back in ${(allBackMs / 1000).toFixed(1)} s; per second: ${ps.join(' ')} | (opening took ${(openMs / 1000).toFixed(0)} s) |`,
      );
      for (const c of ctxs) await c.close();
      await proxy.down();
      await waitFor(async () => (await server.clients()) === 0, { what: 'clients gone', timeoutMs: 20_000 }).catch(() => undefined);
    }
  } finally {
    await browser.close();
    await server.stop();
    await web.close();
  }
  console.log('| part | setup | client | server connections | handshakes / arrivals | |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
