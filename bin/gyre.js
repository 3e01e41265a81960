#!/usr/bin/env node
// Gyre launcher: runs the compiled build (dist/src/main.js) when it is newer than every source file,
// otherwise runs the TypeScript sources directly through tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'main.js');
const srcDir = join(root, 'src');

/** Newest mtime (ms) of any file under `dir`; bounded depth keeps this cheap. */
function newestMtime(dir, depth = 0) {
  let newest = 0;
  if (depth > 8) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, depth + 1));
    else if (entry.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function buildIsFresh() {
  if (!existsSync(built)) return false;
  if (!existsSync(srcDir)) return true;
  return statSync(built).mtimeMs >= newestMtime(srcDir);
}

if (buildIsFresh()) {
  await import(pathToFileURL(built).href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    register = undefined;
  }
  if (register !== undefined) {
    register();
    await import(pathToFileURL(join(srcDir, 'main.ts')).href);
  } else if (existsSync(built)) {
    // tsx is a dev dependency: without it, a stale build is still better than nothing.
    await import(pathToFileURL(built).href);
  } else {
    console.error('gyre: no build found (dist/src/main.js) and tsx is not installed; run `npm run build`');
    process.exitCode = 1;
  }
}
