#!/usr/bin/env node
// Builds the admin web UI (src/admin/ui) with esbuild into dist/admin-ui/: app.js (one minified bundle with
// uPlot), app.css (uPlot's styles + ours), index.html. Skips when the output is newer than every input.
// Run by `npm run build`, `npm start` (scripts/ensure-build.mjs) and `npm test` (scripts/run-tests.mjs).
// Usage: node scripts/build-admin-ui.mjs [--force]
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'admin', 'ui');
const out = join(root, 'dist', 'admin-ui');
const uplotCss = join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css');

const inputs = [...readdirSync(src).map((f) => join(src, f)), uplotCss, fileURLToPath(import.meta.url)];
const newestInput = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
const outputs = ['app.js', 'app.css', 'index.html'].map((f) => join(out, f));
const fresh = outputs.every((f) => existsSync(f) && statSync(f).mtimeMs >= newestInput);
if (fresh && !process.argv.includes('--force')) process.exit(0);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('build-admin-ui: esbuild not installed, skipping (the admin UI answers 503 until built)');
  process.exit(0);
}
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(src, 'app.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2022',
  outfile: join(out, 'app.js'),
  legalComments: 'none',
  logLevel: 'warning',
});
writeFileSync(join(out, 'app.css'), readFileSync(uplotCss, 'utf8') + '\n' + readFileSync(join(src, 'style.css'), 'utf8'));
writeFileSync(join(out, 'index.html'), readFileSync(join(src, 'index.html')));
const sizes = ['app.js', 'app.css', 'index.html'].map((f) => {
  const b = readFileSync(join(out, f));
  return `${f} ${b.byteLength} B (gzip ${gzipSync(b, { level: 9 }).byteLength} B)`;
});
console.log(`build-admin-ui: dist/admin-ui: ${sizes.join(', ')}`);
