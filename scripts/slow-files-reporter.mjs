// A node:test reporter that writes the slowest test files and how long each ran, from its process's start to its
// last reported event (the after hooks of a top-level suite included, a file's last top-level after() not).
// node:test's --test-timeout bounds each file's whole run as well as each test: a file that nears it on a quiet
// machine fails on a loaded one. run-tests.mjs sends it to a file and prints that after the run; it reads the
// limit from NODE_TEST_FILE_TIMEOUT_MS (not a GYRE_ name: the Gyre processes of the tests would warn about it).

import { relative } from 'node:path';

const SHOWN = 8;

export default async function* slowFilesReporter(source) {
  const started = new Map();
  const last = new Map();
  for await (const event of source) {
    const file = event.data?.file;
    if (file === undefined) continue;
    const now = Date.now();
    if (event.type === 'test:dequeue' && event.data.nesting === 0 && event.data.name === file) started.set(file, now);
    last.set(file, now);
  }
  const limit = Number(process.env['NODE_TEST_FILE_TIMEOUT_MS'] ?? '');
  const rows = [...started].map(([file, t0]) => ({ file, ms: (last.get(file) ?? t0) - t0 })).sort((a, b) => b.ms - a.ms);
  const share = (ms) => (limit > 0 ? ` (${Math.round((100 * ms) / limit)} % of the ${limit / 1000} s per file)` : '');
  for (const r of rows.slice(0, SHOWN)) yield `${(r.ms / 1000).toFixed(1).padStart(6)} s  ${relative(process.cwd(), r.file)}${share(r.ms)}\n`;
}
