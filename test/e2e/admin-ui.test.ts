// The admin web UI in real Chromium (playwright-core) against a real Gyre process (node bin/gyre.js): login
// right/wrong/throttled, Status shows the node, Live charts move under 500 raw WebSocket connections and API
// publishes, an Actions publish reaches an official centrifuge client, a user's connection is found and
// disconnected. One browser for the whole file; screenshots go to $GYRE_SCREENSHOTS (default: a temp dir).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { ClientPool } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { TEST_HMAC_SECRET, connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'admin-e2e-password';
const API_KEY = 'admin-e2e-api-key';
const shots = process.env['GYRE_SCREENSHOTS'] ?? mkdtempSync(join(tmpdir(), 'gyre-admin-shots-'));
mkdirSync(shots, { recursive: true });

async function openRaw(url: string, n: number): Promise<WebSocket[]> {
  const token = await connToken({ sub: 'load' });
  const out: WebSocket[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(url);
    ws.on('error', () => undefined);
    out.push(ws);
    opened.push(
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('raw connection timeout')), 20_000);
        ws.once('open', () => ws.send(JSON.stringify({ id: 1, connect: { token } }) + '\n' + JSON.stringify({ id: 2, subscribe: { channel: 'load' } })));
        ws.on('message', (d: Buffer) => {
          if (d.toString().includes('"id":2,"subscribe"')) {
            clearTimeout(timer);
            resolve();
          }
        });
      }),
    );
  }
  await Promise.all(opened);
  return out;
}

async function chartSamples(page: Page, id: string): Promise<{ samples: number; last: Record<string, number | null>; peak: Record<string, number> }> {
  // Attributes through locators (the page's CSP forbids evaluating strings; the test program has no DOM types).
  const el = page.locator(`#chart-${id}`);
  return {
    samples: Number(await el.getAttribute('data-samples')),
    last: JSON.parse((await el.getAttribute('data-last')) ?? '{}') as Record<string, number | null>,
    peak: JSON.parse((await el.getAttribute('data-peak')) ?? '{}') as Record<string, number>,
  };
}

describe('admin web UI (Chromium)', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed` }, () => {
  let gyre: GyreProcess;
  let browser: Browser;
  let page: Page;
  const pool = new ClientPool();
  let raws: WebSocket[] = [];

  before(async () => {
    gyre = await startGyre(
      {
        client: { token: { hmac_secret_key: TEST_HMAC_SECRET } },
        http_api: { key: API_KEY },
        admin: { enabled: true, password: PASSWORD, secret: 'admin-e2e-secret' },
        http_server: { warmup_connections: 0 },
        channel: { without_namespace: { allow_subscribe_for_client: true } },
      },
      { bin: true },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });

  after(async () => {
    for (const ws of raws) ws.terminate();
    pool.closeAll();
    await browser?.close();
    await gyre?.stop();
  });

  it('login: a wrong password is refused, the right one opens Status with this node', async () => {
    await page.goto(`${gyre.baseUrl}/admin/`);
    await page.fill('#password', 'wrong');
    await page.click('#login button');
    await page.locator('#login-message', { hasText: 'Wrong password' }).waitFor();
    await page.screenshot({ path: join(shots, 'login-wrong.png') });
    await page.fill('#password', PASSWORD);
    await page.click('#login button');
    await page.waitForSelector('#nodes tbody tr');
    const row = await page.locator('#nodes tbody tr td').allTextContents();
    assert.match(row[1] ?? '', /Gyre/);
    await page.screenshot({ path: join(shots, 'status.png') });
  });

  it('Live: charts move when 500 connections open and publications flow', async () => {
    await page.click('#nav-live');
    await waitFor(async () => (await chartSamples(page, 'connections')).samples >= 2, { what: 'live samples' });
    const before = await chartSamples(page, 'connections');
    raws = await openRaw(gyre.url, 500);
    const publish = async (): Promise<void> => {
      const r = await fetch(`${gyre.apiUrl}/publish`, { method: 'POST', headers: { 'X-API-Key': API_KEY }, body: JSON.stringify({ channel: 'load', data: { n: 1 } }) });
      assert.equal(r.status, 200);
    };
    let connectSeen = 0;
    let fanoutSeen = 0;
    for (let i = 0; i < 8 && (connectSeen === 0 || fanoutSeen === 0); i++) {
      for (let k = 0; k < 5; k++) await publish();
      await page.waitForTimeout(1100);
      connectSeen = Math.max(connectSeen, (await chartSamples(page, 'connect-rate')).peak['accepted'] ?? 0);
      fanoutSeen = Math.max(fanoutSeen, (await chartSamples(page, 'fanout')).peak['delivered'] ?? 0);
    }
    const now = await chartSamples(page, 'connections');
    assert.ok(now.samples > before.samples, 'new samples arrived');
    assert.ok((now.last['this node'] ?? 0) >= 500, JSON.stringify(now.last));
    assert.ok(connectSeen > 0, 'connect rate moved');
    assert.ok(fanoutSeen >= 500, `fan-out moved: ${fanoutSeen}/s`);
    await page.screenshot({ path: join(shots, 'live.png'), fullPage: true });
    for (const ws of raws) ws.terminate();
    raws = [];
  });

  it('Actions: a publish from the console reaches an official centrifuge client', async () => {
    const { client } = await pool.connected(gyre.url, { sub: 'alice' });
    const sub = client.newSubscription('news');
    const got = new Promise<unknown>((resolve) => sub.on('publication', (ctx) => resolve(ctx.data)));
    const subscribed = new Promise<void>((resolve) => sub.on('subscribed', () => resolve()));
    sub.subscribe();
    await subscribed;
    await page.click('#nav-actions');
    await page.selectOption('#method', 'publish');
    await page.fill('#params', JSON.stringify({ channel: 'news', data: { text: 'from the admin' } }));
    await page.click('#send');
    assert.deepEqual(await got, { text: 'from the admin' });
    await page.locator('#result', { hasText: 'result' }).waitFor();
    await page.screenshot({ path: join(shots, 'actions.png') });

    await page.click('#nav-channels');
    await page.waitForSelector('#channels tbody tr');
    const rows: string[][] = [];
    for (const tr of await page.locator('#channels tbody tr').all()) rows.push(await tr.locator('td').allTextContents());
    assert.ok(rows.some((r) => r[0] === 'news' && r[1] === '1'), JSON.stringify(rows));
  });

  it("Connections: a user's connection is found and disconnected", async () => {
    const { client, id } = await pool.connected(gyre.url, { sub: 'bob' });
    const disconnected = new Promise<number>((resolve) => client.on('disconnected', (ctx) => resolve(ctx.code)));
    await page.click('#nav-connections');
    await page.fill('#user', 'bob');
    await page.click('#find');
    await page.waitForSelector(`#connections tr[data-client="${id}"]`);
    await page.screenshot({ path: join(shots, 'connections.png') });
    await page.click(`#connections tr[data-client="${id}"] button.disconnect`);
    assert.equal(typeof (await disconnected), 'number');
    await waitFor(async () => (await page.$(`#connections tr[data-client="${id}"]`)) === null, { what: 'row gone' });
  });

  it('throttles logins after repeated failures', async () => {
    await page.click('#logout');
    for (let i = 0; i < 5; i++) {
      await page.fill('#password', `wrong-${i}`);
      await page.click('#login button');
      await page.locator('#login-message', { hasText: 'Wrong password' }).waitFor();
    }
    await page.fill('#password', PASSWORD);
    await page.click('#login button');
    await page.locator('#login-message', { hasText: 'Too many attempts' }).waitFor();
  });
});
