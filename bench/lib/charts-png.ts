// Writes the charts of a benchmark run into its directory: charts.html (always) and one PNG per chart,
// screenshotted element by element from that page with playwright-core driving the system Chromium.
// Bounded: one browser, closed in `finally`, and a deadline that closes it if anything hangs.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCharts, type ChartOptions } from './charts.js';
import { chartElementId, renderChartsHtml } from './charts-html.js';
import type { RunRecord } from './result.js';
// Type only (erased): playwright-core itself is loaded lazily, so a missing devDependency is a warning, not a crash.
import type { BrowserType } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export interface ChartFilesOptions extends ChartOptions {
  /** table.md header lines (Command, Date, Machine, Runs). */
  readonly header?: readonly string[];
  /** Chromium binary; default $CHROMIUM_BIN, then /usr/bin/chromium. */
  readonly chromium?: string;
  /** Bound for the whole browser session. */
  readonly timeoutMs?: number;
}

export interface ChartFiles {
  readonly html: string;
  readonly pngs: readonly string[];
  /** Set when no PNG could be made for a known reason (no Chromium, no playwright-core); the HTML is still written. */
  readonly warning: string | null;
}

export function chromiumPath(explicit?: string): string {
  return explicit ?? process.env['CHROMIUM_BIN'] ?? DEFAULT_CHROMIUM;
}

export async function writeChartFiles(records: readonly RunRecord[], outDir: string, opts: ChartFilesOptions = {}): Promise<ChartFiles> {
  const charts = buildCharts(records, opts);
  const page = renderChartsHtml(charts, opts.header ?? []);
  const html = join(outDir, 'charts.html');
  writeFileSync(html, page);
  if (charts.length === 0) return { html, pngs: [], warning: 'no chartable workload in the records' };
  const exe = chromiumPath(opts.chromium);
  if (!existsSync(exe)) {
    return { html, pngs: [], warning: `Chromium not found at ${exe} (set CHROMIUM_BIN); PNG charts not written` };
  }
  let chromium: BrowserType;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return { html, pngs: [], warning: 'playwright-core is not installed (a devDependency); PNG charts not written' };
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, timeout: timeoutMs });
  // If a step hangs, closing the browser makes it reject; the finally below then has nothing left to wait for.
  const guard = setTimeout(() => void browser.close().catch(() => undefined), timeoutMs);
  const pngs: string[] = [];
  try {
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 2 });
    tab.setDefaultTimeout(Math.max(1000, deadline - Date.now()));
    // The page is self-contained; refuse any request so a stray reference can never reach the network.
    await tab.route('**/*', (route) => route.abort());
    await tab.setContent(page, { waitUntil: 'load' });
    for (const c of charts) {
      const file = join(outDir, `${c.id}.png`);
      await tab.locator(`#${chartElementId(c)}`).screenshot({ path: file, animations: 'disabled' });
      pngs.push(file);
    }
  } finally {
    clearTimeout(guard);
    await browser.close().catch(() => undefined);
  }
  return { html, pngs, warning: null };
}
