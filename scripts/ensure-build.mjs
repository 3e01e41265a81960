#!/usr/bin/env node
// `npm start` prestart hook: compiles src/ (tsconfig.build.json) when dist/src/main.js is missing or older than
// any source file. Type errors are reported but never fail the start: tsc still emits JavaScript, and the
// launcher (bin/gyre.js) falls back to running the sources through tsx when the build is unusable.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'main.js');

function newestMtime(dir, depth = 0) {
  let newest = 0;
  if (depth > 8 || !existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, depth + 1));
    else if (entry.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

// The admin web UI bundle (dist/admin-ui) has its own freshness check.
spawnSync(process.execPath, [join(root, 'scripts', 'build-admin-ui.mjs')], { cwd: root, stdio: 'inherit' });

const sourcesNewest = Math.max(newestMtime(join(root, 'src')), newestMtime(join(root, 'loadtest', 'src')));
if (existsSync(built) && statSync(built).mtimeMs >= sourcesNewest) {
  process.exit(0);
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  console.log('ensure-build: typescript not installed, skipping build (bin/gyre.js will use tsx if present)');
  process.exit(0);
}
const started = Date.now();
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
const ok = r.status === 0;
const errors = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').filter((l) => / error TS\d+:/.test(l)).length;
console.log(
  ok
    ? `ensure-build: compiled to dist/ in ${Date.now() - started} ms`
    : `ensure-build: tsc reported ${errors} type error(s); continuing with the emitted JavaScript (see \`npm run typecheck\`)`,
);
process.exit(0);
