#!/usr/bin/env node
// Builds the browser add-on (client/) with esbuild into client/dist/:
//   gyre-shared.mjs        ESM module (centrifuge stays an import: it is a peer dependency)
//   gyre-shared.js         IIFE bundle exposing the global `GyreShared` (centrifuge bundled in)
//   gyre-shared-worker.js  the SharedWorker script (centrifuge bundled in), found beside either bundle
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../client/', import.meta.url));
const common = {
  bundle: true,
  platform: 'browser',
  target: ['es2020'],
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
  legalComments: 'none',
};

const started = Date.now();
await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/gyre-shared.mjs', external: ['centrifuge'] }),
  build({ ...common, entryPoints: ['src/iife.ts'], format: 'iife', globalName: 'GyreShared', outfile: 'dist/gyre-shared.js' }),
  build({ ...common, entryPoints: ['src/worker.ts'], format: 'iife', outfile: 'dist/gyre-shared-worker.js' }),
]);
console.log(`> build:client finished in ${((Date.now() - started) / 1000).toFixed(1)}s (client/dist/)`);
