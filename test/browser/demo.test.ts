// The demo (examples/shared-demo): its own static server script and Gyre config; three tabs, one connection,
// a click in one tab moves the counter in all of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT, mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { buildClient, ev, launchChromium } from './harness.js';

describe('examples/shared-demo', () => {
  let gyre: GyreProcess;
  let web: ChildProcess;
  let browser: Browser;
  let origin = '';

  before(async () => {
    buildClient();
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const demo = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/shared-demo/config.json'), 'utf8')) as Record<string, unknown>;
    gyre = await startGyre(mergeConfig(demo, { client: { allowed_origins: [origin] }, log: { level: 'warn' } }));
    web = spawn(process.execPath, [join(REPO_ROOT, 'examples/shared-demo/serve.mjs'), String(port)], { stdio: 'ignore' });
    await waitFor(async () => (await fetch(`${origin}/`)).status === 200, { what: 'demo server' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    web?.kill('SIGTERM');
    await gyre?.stop();
  });

  it('three tabs, one connection, a live counter', async () => {
    const ctx = await browser.newContext();
    const pages: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await ctx.newPage();
      await p.goto(`${origin}/?ws=${encodeURIComponent(gyre.url)}`);
      pages.push(p);
    }
    for (const p of pages) {
      await waitFor(async () => (await ev<string>(p, "document.getElementById('state').textContent")) === 'connected', { what: 'connected' });
    }
    await pages[1]!.click('#inc');
    await pages[2]!.click('#inc');
    for (const p of pages) {
      await waitFor(async () => (await ev<string>(p, "document.getElementById('count').textContent")) === '2', { what: 'counter at 2 in every tab' });
    }
    await waitFor(async () => (await ev<string>(pages[0]!, "document.getElementById('conns').textContent")) === '1', {
      what: 'one server connection (presence)',
      timeoutMs: 5000,
    });
    await ctx.close();
  });
});
