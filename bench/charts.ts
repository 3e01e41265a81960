// Charts of a benchmark-table run: reads its records.json (and the header of the table.md beside it, if any)
// and writes charts.html plus one PNG per chart (burst.png, idle.png, cpu-<ch>x<subs>.png, latency.png) into
// --out. bench/table.ts does the same at the end of every run; this is for re-rendering a recorded run.
// Run: node --import tsx bench/charts.ts --records DIR/records.json [--out DIR] [--peers gyre,centrifugo,…]
//        [--chromium /usr/bin/chromium]
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseRecords } from './lib/charts.js';
import { parseTableHeader } from './lib/charts-html.js';
import { writeChartFiles } from './lib/charts-png.js';

async function main(argv: readonly string[]): Promise<number> {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const recordsFile = get('records');
  if (recordsFile === undefined) throw new Error('usage: bench/charts.ts --records DIR/records.json [--out DIR] [--peers a,b] [--chromium PATH]');
  const records = parseRecords(JSON.parse(readFileSync(recordsFile, 'utf8')) as unknown);
  const out = resolve(get('out') ?? dirname(recordsFile));
  mkdirSync(out, { recursive: true });
  const tableMd = join(dirname(recordsFile), 'table.md');
  const header = existsSync(tableMd) ? parseTableHeader(readFileSync(tableMd, 'utf8')) : [];
  const peers = get('peers')?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const chromium = get('chromium');
  const files = await writeChartFiles(records, out, {
    header,
    ...(peers === undefined ? {} : { peers }),
    ...(chromium === undefined ? {} : { chromium }),
  });
  process.stdout.write(`written: ${[files.html, ...files.pngs].join('\n         ')}\n`);
  if (files.warning !== null) {
    process.stderr.write(`bench/charts: warning: ${files.warning}\n`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench/charts: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
