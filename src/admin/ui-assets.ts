// The web UI's built files (scripts/build-admin-ui.mjs writes them to dist/admin-ui/), read once at start-up and
// served from memory with an ETag and a gzip variant. Without a build, the UI answers 503 and says how to build
// it; the admin endpoints work either way.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { sendText } from '../http/router.js';

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

/** dist/admin-ui next to the sources (tsx) or next to the compiled files (dist/src/admin → dist/admin-ui). */
export function defaultUiDir(): string | undefined {
  for (const rel of ['../../dist/admin-ui/', '../../admin-ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

export class UiAssets {
  private readonly assets = new Map<string, Asset>();

  constructor(dir: string | undefined = defaultUiDir()) {
    if (dir === undefined) return;
    for (const name of readdirSync(dir)) {
      const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
      if (type === undefined) continue;
      const body = readFileSync(`${dir}/${name}`);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      this.assets.set(name, { body, gzip: gzipSync(body, { level: 9 }), type, etag });
    }
  }

  get built(): boolean {
    return this.assets.has('index.html');
  }

  files(): string[] {
    return [...this.assets.keys()];
  }

  /** Raw and gzip bytes of every file (reported by the build and the tests). */
  sizes(): Record<string, { bytes: number; gzip: number }> {
    const out: Record<string, { bytes: number; gzip: number }> = {};
    for (const [name, a] of this.assets) out[name] = { bytes: a.body.byteLength, gzip: a.gzip.byteLength };
    return out;
  }

  serve(name: string, req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method Not Allowed');
    const a = this.assets.get(name);
    if (a === undefined) {
      return sendText(res, 503, 'admin web UI not built: run `npm run build` (scripts/build-admin-ui.mjs)');
    }
    const headers: Record<string, string | number> = {
      'Content-Type': a.type,
      ETag: a.etag,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
    };
    if (name === 'index.html') {
      headers['Content-Security-Policy'] = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
      headers['X-Frame-Options'] = 'DENY';
    }
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? a.gzip : a.body;
    if (gzip) headers['Content-Encoding'] = 'gzip';
    headers['Content-Length'] = body.byteLength;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
