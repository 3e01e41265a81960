// The shared-connection suite, run per mode ('worker': SharedWorker; 'leader': SharedWorker deleted by an init
// script, so leader election + BroadcastChannel) and per server (Gyre; Centrifugo 6.9.1 when installed).
// One Chromium launch per test file; every wait is bounded.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sleep, waitFor } from '../harness/wait.js';
import { buildClient, ev, launchChromium, startServer, startStatic, type ServerKind, type ServerUnderTest, type StaticServer } from './harness.js';

export type Mode = 'worker' | 'leader';

const TABS = 8;

export function sharedSuite(mode: Mode, kind: ServerKind): void {
  describe(`gyre-shared (${mode}) against ${kind}`, () => {
    let browser: Browser;
    let web: StaticServer;
    let server: ServerUnderTest;
    const contexts: BrowserContext[] = [];

    before(async () => {
      buildClient();
      web = await startStatic();
      server = await startServer(kind, web.origin);
      browser = await launchChromium();
    });
    after(async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser?.close();
      await server?.stop();
      await web?.close();
    });

    afterEach(async () => {
      for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    });

    async function newContext(): Promise<BrowserContext> {
      const ctx = await browser.newContext();
      contexts.push(ctx);
      if (mode === 'leader') await ctx.addInitScript('delete window.SharedWorker;');
      return ctx;
    }

    async function openTab(ctx: BrowserContext, user: string, channels: string[], opts: Record<string, unknown> = {}): Promise<Page> {
      const page = await ctx.newPage();
      await page.goto(web.pageUrl);
      const o = { withGetToken: true, user, ...opts };
      await page.evaluate(`T.init(${JSON.stringify(server.url)}, ${JSON.stringify(o)})`);
      assert.equal(await ev(page, 'T.c.mode'), mode);
      for (const ch of channels) await page.evaluate(`T.sub(${JSON.stringify(ch)})`);
      await page.evaluate('T.c.connect()');
      return page;
    }

    async function allReady(pages: Page[], channels: (i: number) => string[]): Promise<void> {
      await waitFor(
        async () => {
          for (let i = 0; i < pages.length; i++) {
            if (!(await ev<boolean>(pages[i]!, `T.ready(${JSON.stringify(channels(i))})`))) return false;
          }
          return true;
        },
        { what: 'every tab connected and subscribed', timeoutMs: 15_000, intervalMs: 50 },
      );
    }

    it(`${TABS} tabs share one connection: own and shared channels reach the right tabs; unsubscribe is per tab; the last tab closes it`, async () => {
      const ctx = await newContext();
      const chans = (i: number): string[] => [`rec:own-${mode}-${i}`, `rec:shared-${mode}`];
      const pages: Page[] = [];
      for (let i = 0; i < TABS; i++) pages.push(await openTab(ctx, 'alice', chans(i)));
      await allReady(pages, chans);
      const shared = `rec:shared-${mode}`;
      // ready() of the client and of a subscription resolve once connected / subscribed.
      assert.equal(await ev(pages[0]!, `Promise.all([T.c.ready(1000), T.c.getSubscription('${shared}').ready(1000)]).then(() => 'ready')`), 'ready');
      assert.equal(await server.present(shared), 1, 'one connection in the shared channel');
      await waitFor(async () => (await server.clients()) === 1, { what: 'server info: one client', timeoutMs: 2000 + server.infoLagMs });

      await server.publish(`rec:shared-${mode}`, { n: 1 });
      for (let i = 0; i < TABS; i++) await server.publish(`rec:own-${mode}-${i}`, { n: 100 + i });
      for (let i = 0; i < TABS; i++) {
        const p = pages[i]!;
        await waitFor(async () => (await ev<number>(p, `T.count('rec:own-${mode}-${i}')`)) === 1, { what: `own pub in tab ${i}` });
        await waitFor(async () => (await ev<number>(p, `T.count('rec:shared-${mode}')`)) === 1, { what: `shared pub in tab ${i}` });
        assert.deepEqual(await ev(p, `T.seq('rec:own-${mode}-${i}')`), [100 + i], 'only its own channel');
      }

      // A tab's unsubscribe is its own: the others keep receiving.
      await pages[0]!.evaluate(`T.unsub('rec:shared-${mode}')`);
      await server.publish(`rec:shared-${mode}`, { n: 2 });
      await server.publish(`rec:own-${mode}-0`, { n: 200 });
      for (let i = 1; i < TABS; i++) {
        await waitFor(async () => (await ev<number>(pages[i]!, `T.count('rec:shared-${mode}')`)) === 2, { what: `2nd shared pub in tab ${i}` });
      }
      await waitFor(async () => (await ev<number>(pages[0]!, `T.count('rec:own-${mode}-0')`)) === 2, { what: 'tab 0 own pub' });
      assert.equal(await ev<number>(pages[0]!, `T.count('rec:shared-${mode}')`), 1, 'tab 0 unsubscribed: no 2nd shared pub');
      assert.equal(await server.present(shared), 1);
      assert.equal(await server.present(`rec:own-${mode}-0`), 1, 'tab 0 still subscribed to its own channel');

      // Closing tabs one by one: the connection stays while any tab is left, and closes within 5 s of the last.
      for (let i = 0; i < TABS - 1; i++) await pages[i]!.close();
      // (Leader mode: closing the leader tab moves the hub, and the connection, to another tab. While it moves, the
      // server can see the old connection still open or none yet, so a single sample can be 1 and then 0.)
      const last = pages[TABS - 1]!;
      const settled = async (): Promise<boolean> =>
        (await ev<boolean>(last, `T.ready(['rec:shared-${mode}'])`)) && (await server.present(shared)) === 1;
      await waitFor(settled, { what: 'one tab left: one connection, the tab subscribed' });
      await sleep(300);
      await waitFor(settled, { what: 'one tab left: still one connection after the hub settled' });
      assert.equal(await server.present(shared), 1, 'one tab left: exactly one connection');
      await server.publish(`rec:shared-${mode}`, { n: 3 });
      await waitFor(async () => (await ev<number>(last, `T.count('rec:shared-${mode}')`)) === 3, { what: 'last tab still receives' });
      const closedAt = Date.now();
      await last.close();
      await waitFor(async () => (await server.present(shared)) === 0, { what: 'server connection closed', timeoutMs: 5000, intervalMs: 100 });
      assert.ok(Date.now() - closedAt <= 5000);
      await waitFor(async () => (await server.clients()) === 0, { what: 'server info: no client', timeoutMs: 5000 + server.infoLagMs, intervalMs: 100 });
    });

    it('the hub dies (worker killed / leader tab closed): tabs reconnect and recover a 20 msg/s stream with no gap and no duplicate', async () => {
      const ctx = await newContext();
      const ch = `rec:stream-${mode}`;
      const pages: Page[] = [];
      for (let i = 0; i < 4; i++) pages.push(await openTab(ctx, 'bob', [ch]));
      await allReady(pages, () => [ch]);
      const total = 60;
      let handoverMs = -1;
      const stream = (async () => {
        for (let n = 1; n <= total; n++) {
          await server.publish(ch, { n });
          await sleep(50);
        }
      })();
      await sleep(800);
      let survivors = pages;
      if (mode === 'worker') {
        await pages[0]!.evaluate('T.c.killHub()');
      } else {
        let leader = -1;
        for (let i = 0; i < pages.length; i++) if (await ev<boolean>(pages[i]!, 'T.c.hubHere()')) leader = i;
        assert.ok(leader >= 0, 'one tab is the leader');
        survivors = pages.filter((_, i) => i !== leader);
        const closedAt = Date.now();
        await pages[leader]!.close();
        await waitFor(
          async () => {
            for (const p of survivors) {
              if ((await ev<string>(p, 'T.c.state')) !== 'connected') return false;
            }
            const leaders = await Promise.all(survivors.map((p) => ev<boolean>(p, 'T.c.hubHere()')));
            return leaders.filter(Boolean).length === 1;
          },
          { what: 'a new leader connected', timeoutMs: 5000, intervalMs: 25 },
        );
        handoverMs = Date.now() - closedAt;
      }
      await stream;
      const want = Array.from({ length: total }, (_, i) => i + 1);
      for (const p of survivors) {
        await waitFor(async () => (await ev<number>(p, `T.count('${ch}')`)) >= total, { what: 'whole stream', timeoutMs: 10_000 }).catch(
          async (e: unknown) => {
            const seen = await ev(p, `JSON.stringify({ seq: T.seq('${ch}'), states: T.states, sub: T.c.getSubscription('${ch}').state })`);
            throw new Error(`${String(e)}: ${String(seen)}`);
          },
        );
        assert.deepEqual(await ev(p, `T.seq('${ch}')`), want, 'no gap, no duplicate');
      }
      await waitFor(async () => (await server.present(ch)) === 1, { what: 'one connection again' });
      if (mode === 'leader') assert.ok(handoverMs <= 2000, `hand-over took ${handoverMs} ms`);
    });

    it('a tab that joins a shared channel late, from its own stream position, first gets what it missed', async () => {
      // What a tab that greets a new hub late during a hand-over goes through: the hub's subscription started
      // from another tab's position, so the late tab's gap is read from history before its live publications.
      const ctx = await newContext();
      const ch = `rec:late-${mode}`;
      const first = await openTab(ctx, 'dave', [ch]);
      await allReady([first], () => [ch]);
      for (let n = 1; n <= 5; n++) await server.publish(ch, { n });
      await waitFor(async () => (await ev<number>(first, `T.count('${ch}')`)) === 5, { what: 'first tab has 5' });
      const top = await ev<{ offset: number; epoch: string }>(first, `T.c.getSubscription('${ch}').history({ limit: 0 })`);
      assert.equal(top.offset, 5);
      const late = await openTab(ctx, 'dave', []);
      await late.evaluate(`T.subFrom('${ch}', ${JSON.stringify({ offset: 2, epoch: top.epoch })})`);
      await waitFor(async () => (await ev<number>(late, `T.count('${ch}')`)) === 3, { what: 'late tab caught up' });
      await server.publish(ch, { n: 6 });
      await waitFor(async () => (await ev<number>(late, `T.count('${ch}')`)) === 4, { what: 'late tab live' });
      assert.deepEqual(await ev(late, `T.seq('${ch}')`), [3, 4, 5, 6], 'missed ones first, in order, then live; no duplicate');
      assert.equal(await ev(late, 'T.recovered'), true);
      assert.deepEqual(await ev(first, `T.seq('${ch}')`), [1, 2, 3, 4, 5, 6], 'the other tab is not affected');
      assert.equal(await server.present(ch), 1, 'still one connection');
    });

    // Chromium keeps no page with an open WebSocket in the back-forward cache, so a leader tab leaving unloads (the
    // hand-over case above); a tab without the connection is cached, lets go of its subscriptions, and recovers.
    it('a tab put in the back-forward cache lets go; restored, it recovers with no gap and no duplicate', async () => {
      const ctx = await newContext();
      const ch = `rec:bfcache-${mode}`;
      const pages: Page[] = [];
      for (let i = 0; i < 3; i++) pages.push(await openTab(ctx, 'erin', [ch]));
      await allReady(pages, () => [ch]);
      let away = 0;
      if (mode === 'leader') {
        for (let i = 0; i < pages.length; i++) if (!(await ev<boolean>(pages[i]!, 'T.c.hubHere()'))) away = i;
      }
      const total = 40;
      const stream = (async () => {
        for (let n = 1; n <= total; n++) {
          await server.publish(ch, { n });
          await sleep(50);
        }
      })();
      await sleep(500);
      const page = pages[away]!;
      await page.goto(`${web.origin}/elsewhere`);
      const survivors = pages.filter((_, i) => i !== away);
      await stream;
      const want = Array.from({ length: total }, (_, i) => i + 1);
      for (const p of survivors) {
        await waitFor(async () => (await ev<number>(p, `T.count('${ch}')`)) >= total, { what: 'whole stream in a live tab', timeoutMs: 10_000 });
        assert.deepEqual(await ev(p, `T.seq('${ch}')`), want, 'live tabs: no gap, no duplicate');
      }
      // A restore from the back-forward cache fires no load event: wait for the commit only.
      await page.goBack({ waitUntil: 'commit' });
      await waitFor(async () => (await ev<boolean>(page, "typeof T === 'object' && T.c !== undefined")) === true, {
        what: 'the page restored from the back-forward cache (its state kept)',
        timeoutMs: 5000,
      });
      await waitFor(async () => (await ev<number>(page, `T.count('${ch}')`)) >= total, { what: 'the restored tab caught up', timeoutMs: 10_000 });
      assert.deepEqual(await ev(page, `T.seq('${ch}')`), want, 'the restored tab: no gap, no duplicate');
      await server.publish(ch, { n: total + 1 });
      for (const p of pages) await waitFor(async () => (await ev<number>(p, `T.count('${ch}')`)) === total + 1, { what: 'live again everywhere' });
      await waitFor(async () => (await server.present(ch)) === 1, { what: 'one connection' });
    });

    it("a token refresh goes through a tab's getToken", async () => {
      const ctx = await newContext();
      const ch = `rec:tok-${mode}`;
      // Tokens valid for 5 s: the real client in the hub asks for a new one through a tab before expiry. With
      // 2 s, opening two tabs on a loaded machine (load 30) took long enough for the refresh to come before the
      // first count was read, which then saw 2 token calls.
      const pages = [await openTab(ctx, 'carol', [ch], { exp: 5 }), await openTab(ctx, 'carol', [ch], { exp: 5 })];
      await allReady(pages, () => [ch]);
      const first = (await ev<number>(pages[0]!, 'T.tokenCalls')) + (await ev<number>(pages[1]!, 'T.tokenCalls'));
      assert.equal(first, 1, 'one token for the one connection, fetched by one tab');
      await waitFor(
        async () => (await ev<number>(pages[0]!, 'T.tokenCalls')) + (await ev<number>(pages[1]!, 'T.tokenCalls')) >= 2,
        { what: 'token refreshed through a tab', timeoutMs: 15_000, intervalMs: 100 },
      );
      await sleep(1500); // past the first token's expiry
      assert.equal(await server.present(ch), 1, 'still one connection after the first token expired');
      await server.publish(ch, { n: 1 });
      for (const p of pages) await waitFor(async () => (await ev<number>(p, `T.count('${ch}')`)) === 1, { what: 'pub after refresh' });
      const states = await ev<string[]>(pages[0]!, 'T.states');
      assert.deepEqual(states, ['connecting', 'connected'], 'no reconnect for the refresh');
    });
  });
}
