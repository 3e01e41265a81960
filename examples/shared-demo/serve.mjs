#!/usr/bin/env node
// Tiny static server for the gyre-shared demo: serves this folder and client/dist/ on http://127.0.0.1:8080.
// Usage (from the repository root):
//   npm run build:client
//   node bin/gyre.js -c examples/shared-demo/config.json        # Gyre on :8000, allows this page's origin
//   node examples/shared-demo/serve.mjs [port]                  # then open http://127.0.0.1:8080/ in several tabs
// Ctrl-C stops it.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { join, normalize } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = fileURLToPath(new URL('../../client/dist/', import.meta.url));
const port = Number(process.argv[2] ?? 8080) || 8080;
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json' };

createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  let file;
  if (path === '/' || path === '/index.html') file = join(here, 'index.html');
  else if (path.startsWith('/client/dist/')) file = join(dist, normalize(path.slice('/client/dist/'.length)).replace(/^(\.\.[/\\])+/, ''));
  if (file === undefined) {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(file);
    const ext = file.slice(file.lastIndexOf('.'));
    res.writeHead(200, { 'content-type': types[ext] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}).listen(port, '127.0.0.1', () => console.log(`gyre-shared demo on http://127.0.0.1:${port}/ (Gyre expected on :8000)`));
