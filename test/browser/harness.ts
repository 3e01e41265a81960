// Browser test harness for the shared-connection add-on (client/): a loopback static server for the test page
// and client/dist (plus /token, which signs connection tokens so the page's getToken is real), Chromium through
// playwright-core, and a server under test (Gyre, or Centrifugo 6.9.1 when present) with the page origin allowed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { API_KEY } from '../harness/clients.js';
import { startCentrifugo } from '../harness/centrifugo.js';
import { REPO_ROOT, startGyre } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';
import { connToken, TEST_HMAC_SECRET } from '../harness/tokens.js';

/** The test page: GyreShared from the IIFE bundle, and a `T` object the tests drive with page.evaluate. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>gyre-shared test</title>
<script src="/client/dist/gyre-shared.js"></script>
<script src="/vendor/centrifuge.js"></script>
<script>
window.T = { pubs: {}, subscribed: {}, states: [], tokenCalls: 0, errors: [] };
T.init = (url, opts) => {
  const o = Object.assign({}, opts);
  if (o.withGetToken) {
    delete o.withGetToken;
    o.getToken = async () => {
      T.tokenCalls++;
      const r = await fetch('/token?user=' + encodeURIComponent(opts.user) + '&exp=' + (opts.exp || 3600));
      return await r.text();
    };
  }
  delete o.user; delete o.exp; delete o.plain;
  // plain: the official client (one connection per tab), for comparisons in bench/.
  T.c = opts.plain ? new Centrifuge(url, o) : new GyreShared.Centrifuge(url, o);
  T.c.on('state', (ctx) => T.states.push(ctx.newState));
  T.c.on('error', (ctx) => T.errors.push(ctx));
};
T.sub = (ch) => {
  const s = T.c.getSubscription(ch) || T.c.newSubscription(ch);
  T.pubs[ch] = T.pubs[ch] || [];
  if (!s.__wired) {
    s.__wired = true;
    s.on('publication', (ctx) => T.pubs[ch].push(ctx.data));
    s.on('subscribed', (ctx) => { T.subscribed[ch] = (T.subscribed[ch] || 0) + 1; });
  }
  s.subscribe();
};
T.subFrom = (ch, since) => {
  const s = T.c.newSubscription(ch, { since });
  T.pubs[ch] = [];
  s.__wired = true;
  s.on('publication', (ctx) => T.pubs[ch].push(ctx.data));
  s.on('subscribed', (ctx) => { T.subscribed[ch] = (T.subscribed[ch] || 0) + 1; T.recovered = ctx.recovered; });
  s.subscribe();
};
T.unsub = (ch) => T.c.getSubscription(ch).unsubscribe();
T.count = (ch) => (T.pubs[ch] || []).length;
T.seq = (ch) => (T.pubs[ch] || []).map((d) => d.n);
T.ready = (chs) => T.c.state === 'connected' && chs.every((ch) => T.c.getSubscription(ch) && T.c.getSubscription(ch).state === 'subscribed');
</script>`;

export interface StaticServer {
  origin: string;
  pageUrl: string;
  close(): Promise<void>;
}

/** Serves /page.html, /elsewhere (a page to navigate to, for the back-forward cache), /client/dist/*, /vendor/centrifuge.js (the official browser bundle) and /token on a free loopback port. */
export async function startStatic(): Promise<StaticServer> {
  const dist = join(REPO_ROOT, 'client', 'dist');
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    if (url.pathname === '/elsewhere') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>elsewhere');
      return;
    }
    if (url.pathname === '/token') {
      const user = url.searchParams.get('user') ?? 'u';
      const exp = Number(url.searchParams.get('exp') ?? '3600');
      connToken({ sub: user, expIn: exp }).then(
        (t) => res.writeHead(200, { 'content-type': 'text/plain' }).end(t),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (url.pathname === '/vendor/centrifuge.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(REPO_ROOT, 'node_modules', 'centrifuge', 'dist', 'centrifuge.js')));
      return;
    }
    const m = /^\/client\/dist\/([\w.-]+\.(?:js|mjs|map))$/.exec(url.pathname);
    if (m !== null) {
      try {
        const body = readFileSync(join(dist, m[1]!));
        res.writeHead(200, { 'content-type': m[1]!.endsWith('.map') ? 'application/json' : 'text/javascript' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    res.writeHead(404).end();
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    pageUrl: `${origin}/page.html`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Builds client/dist once per test process (npm test also builds it first; this keeps single-file runs honest). */
let built = false;
export function buildClient(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-client.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('client build failed');
  built = true;
}

export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    // Playwright turns the back-forward cache off by default; the add-on must cope with it, so the tests keep it.
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
    executablePath: process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export type ServerKind = 'gyre' | 'centrifugo';

export interface ServerUnderTest {
  kind: ServerKind;
  url: string;
  apiUrl: string;
  /** Connections the server counts (API info, all nodes). */
  clients(): Promise<number>;
  /** Distinct client connections in the channel's presence (live on both servers; info lags on Centrifugo). */
  present(channel: string): Promise<number>;
  /** How long `clients()` may lag behind (Centrifugo refreshes node info every few seconds). */
  infoLagMs: number;
  publish(channel: string, data: unknown): Promise<void>;
  stop(): Promise<void>;
}

export function serverConfig(origin: string): Record<string, unknown> {
  return {
    log: { level: 'warn' },
    client: { token: { hmac_secret_key: TEST_HMAC_SECRET }, allowed_origins: [origin] },
    http_api: { key: API_KEY },
    channel: {
      namespaces: [
        {
          name: 'rec',
          history_size: 1000,
          history_ttl: '300s',
          force_recovery: true,
          allow_subscribe_for_client: true,
          allow_publish_for_subscriber: true,
          allow_history_for_subscriber: true,
          allow_presence_for_subscriber: true,
          presence: true,
        },
      ],
    },
  };
}

async function api(apiUrl: string, method: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${apiUrl}/${method}`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const j = (await res.json()) as Record<string, unknown>;
  if (j['error'] !== undefined) throw new Error(`api ${method}: ${JSON.stringify(j['error'])}`);
  return j;
}

export async function startServer(kind: ServerKind, origin: string): Promise<ServerUnderTest> {
  const cfg = serverConfig(origin);
  const p = kind === 'gyre' ? await startGyre(cfg) : await startCentrifugo(cfg);
  return {
    kind,
    url: p.url,
    apiUrl: p.apiUrl,
    clients: async () => {
      const r = await api(p.apiUrl, 'info', {});
      const nodes = ((r['result'] as { nodes?: { num_clients?: number }[] } | undefined)?.nodes ?? []);
      return nodes.reduce((a, n) => a + (n.num_clients ?? 0), 0);
    },
    present: async (channel) => {
      const r = await api(p.apiUrl, 'presence', { channel });
      return Object.keys((r['result'] as { presence?: Record<string, unknown> } | undefined)?.presence ?? {}).length;
    },
    infoLagMs: kind === 'gyre' ? 0 : 6000,
    publish: async (channel, data) => {
      await api(p.apiUrl, 'publish', { channel, data });
    },
    stop: async () => {
      await p.stop();
    },
  };
}

/** Evaluates an expression of the page's `T` helper. */
export async function ev<R = unknown>(page: Page, expr: string): Promise<R> {
  return (await page.evaluate(expr));
}
