#!/usr/bin/env node
// gyre-bench launcher: runs the compiled CLI when dist/ is built and newer than the sources, otherwise
// registers tsx and runs the TypeScript sources directly.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'loadtest', 'src', 'cli.js');

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (name.endsWith('.ts')) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

function isFresh() {
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  return newestMtime(join(root, 'loadtest', 'src')) <= builtAt && newestMtime(join(root, 'src', 'protocol')) <= builtAt;
}

let cli;
if (isFresh()) {
  cli = await import(pathToFileURL(built).href);
} else {
  // Worker threads and child processes then load TypeScript through tsx too (~1-2 s each, before the
  // measured phase); compiled workers start in a few hundred ms.
  process.stderr.write('gyre-bench: dist/ is missing or older than the sources; running through tsx (`node scripts/ensure-build.mjs` compiles)\n');
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(pathToFileURL(join(root, 'loadtest', 'src', 'cli.ts')).href);
}
let code = 1;
try {
  code = await cli.main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`gyre-bench: ${err instanceof Error ? err.message : String(err)}\n`);
}
// Every run is bounded: exit even if a stray handle (e.g. a server that never closes a socket) remains.
process.exit(code);
