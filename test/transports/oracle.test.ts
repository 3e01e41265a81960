// The emulation and unidirectional endpoints answered side by side by Gyre and real Centrifugo 6.9.1 (skipped when
// the binary is missing): the same raw requests, compared on status, the CORS and streaming headers and the first
// messages of each stream, with ids and version strings normalised.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findCentrifugo, startCentrifugo, type CentrifugoProcess } from '../harness/centrifugo.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { baseConfig } from '../compat/base-config.js';

const binary = findCentrifugo();
const skip = binary === undefined ? 'centrifugo binary not found' : false;

const HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-max-age',
  'content-type',
  'cache-control',
  'pragma',
  'expire',
  'x-accel-buffering',
] as const;

interface Answer {
  status: number;
  headers: Record<string, string>;
  /** Up to `lines` non-empty lines of the body (streams are cut there or after a short wait). */
  body: string[];
}

interface Probe {
  name: string;
  path: string | ((ctx: Ctx) => string);
  method?: string;
  headers?: Record<string, string>;
  body?: string | ((ctx: Ctx) => string);
  lines?: number;
}

interface Ctx {
  token: string;
  expired: string;
}

const normalize = (s: string): string =>
  s
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/"version":"[^"]*"/g, '"version":"<v>"')
    .replace(/"ttl":\d+/g, '"ttl":<ttl>');

async function ask(base: string, p: Probe, ctx: Ctx): Promise<Answer> {
  const path = typeof p.path === 'function' ? p.path(ctx) : p.path;
  const body = typeof p.body === 'function' ? p.body(ctx) : p.body;
  const ac = new AbortController();
  const res = await fetch(`${base}${path}`, { method: p.method ?? 'GET', headers: p.headers ?? {}, ...(body !== undefined ? { body } : {}), signal: ac.signal });
  const headers: Record<string, string> = {};
  for (const h of HEADERS) {
    const v = res.headers.get(h);
    if (v !== null) headers[h] = v;
  }
  const want = p.lines ?? 0;
  const lines: string[] = [];
  if (res.body !== null) {
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const timer = setTimeout(() => ac.abort(), want > 0 ? 3000 : 1000);
    try {
      while (lines.length < want || want === 0) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += dec.decode(value as Uint8Array, { stream: true });
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const l of parts) if (l.trim() !== '') lines.push(normalize(l));
      }
    } catch {
      /* aborted: the stream stays open */
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }
  return { status: res.status, headers, body: lines.slice(0, want) };
}

const json = { 'Content-Type': 'application/json' };
const PROBES: Probe[] = [
  { name: 'http_stream connect', path: '/connection/http_stream', method: 'POST', headers: json, body: (c) => JSON.stringify({ id: 1, connect: { token: c.token } }), lines: 1 },
  { name: 'http_stream expired token', path: '/connection/http_stream', method: 'POST', body: (c) => JSON.stringify({ id: 1, connect: { token: c.expired } }), lines: 1 },
  { name: 'http_stream empty body', path: '/connection/http_stream', method: 'POST', body: '', lines: 1 },
  { name: 'http_stream truncated body', path: '/connection/http_stream', method: 'POST', body: '{"id":1,"conn', lines: 1 },
  { name: 'http_stream GET', path: '/connection/http_stream' },
  { name: 'http_stream oversized', path: '/connection/http_stream', method: 'POST', body: 'x'.repeat(70_000) },
  { name: 'http_stream preflight', path: '/connection/http_stream', method: 'OPTIONS', headers: { Origin: 'http://allowed.example', 'Access-Control-Request-Headers': 'content-type' } },
  { name: 'http_stream preflight, bad origin', path: '/connection/http_stream', method: 'OPTIONS', headers: { Origin: 'http://evil.example' } },
  { name: 'sse connect', path: (c) => `/connection/sse?cf_connect=${encodeURIComponent(JSON.stringify({ id: 1, connect: { token: c.token } }))}`, lines: 1 },
  { name: 'sse without cf_connect', path: '/connection/sse' },
  { name: 'sse OPTIONS', path: '/connection/sse', method: 'OPTIONS', headers: { Origin: 'http://allowed.example' } },
  { name: 'sse PUT', path: '/connection/sse', method: 'PUT' },
  { name: 'emulation unknown node', path: '/emulation', method: 'POST', body: JSON.stringify({ session: 's', node: 'forged', data: '{}' }) },
  { name: 'emulation bad body', path: '/emulation', method: 'POST', body: '{bad' },
  { name: 'emulation oversized', path: '/emulation', method: 'POST', body: 'x'.repeat(70_000) },
  { name: 'emulation GET', path: '/emulation' },
  { name: 'emulation preflight', path: '/emulation', method: 'OPTIONS', headers: { Origin: 'http://allowed.example' } },
  { name: 'uni_http_stream connect', path: '/connection/uni_http_stream', method: 'POST', body: (c) => JSON.stringify({ token: c.token }), lines: 1 },
  { name: 'uni_http_stream null request', path: '/connection/uni_http_stream', method: 'POST', body: 'null', lines: 1 },
  { name: 'uni_http_stream expired token', path: '/connection/uni_http_stream', method: 'POST', body: (c) => JSON.stringify({ token: c.expired }), lines: 1 },
  { name: 'uni_http_stream invalid token', path: '/connection/uni_http_stream', method: 'POST', body: '{"token":"x"}', lines: 1 },
  { name: 'uni_http_stream empty body', path: '/connection/uni_http_stream', method: 'POST', body: '' },
  { name: 'uni_http_stream bad JSON', path: '/connection/uni_http_stream', method: 'POST', body: '{"token":' },
  { name: 'uni_http_stream GET', path: '/connection/uni_http_stream' },
  { name: 'uni_http_stream preflight', path: '/connection/uni_http_stream', method: 'OPTIONS' },
  { name: 'uni_sse connect', path: (c) => `/connection/uni_sse?cf_connect=${encodeURIComponent(JSON.stringify({ token: c.token }))}`, lines: 1 },
  { name: 'uni_sse POST', path: '/connection/uni_sse', method: 'POST', body: (c) => JSON.stringify({ token: c.token }), lines: 1 },
  { name: 'uni_sse bad cf_connect', path: '/connection/uni_sse?cf_connect=xx' },
  { name: 'uni_sse POST empty', path: '/connection/uni_sse', method: 'POST', body: '' },
  { name: 'uni_sse OPTIONS', path: '/connection/uni_sse', method: 'OPTIONS' },
];

describe('emulation and unidirectional endpoints: Gyre answers as Centrifugo 6.9.1', { skip }, () => {
  let gyre: GyreProcess;
  let cf: CentrifugoProcess;
  const ctx: Ctx = { token: '', expired: '' };
  before(async () => {
    const config = mergeConfig(baseConfig(), {
      client: { allowed_origins: ['http://allowed.example'] },
      http_stream: { enabled: true },
      sse: { enabled: true },
      uni_http_stream: { enabled: true },
      uni_sse: { enabled: true },
    });
    [gyre, cf] = await Promise.all([startGyre(config), startCentrifugo(config, binary !== undefined ? { binary } : {})]);
    ctx.token = await connToken({ sub: 'oracle', expIn: 3600 });
    ctx.expired = await connToken({ sub: 'oracle', expIn: -10 });
  });
  after(async () => {
    await Promise.all([gyre?.stop(), cf?.stop()]);
  });

  for (const p of PROBES) {
    it(p.name, async () => {
      const [g, c] = await Promise.all([ask(gyre.baseUrl, p, ctx), ask(cf.baseUrl, p, ctx)]);
      assert.deepEqual(g, c);
      assert.equal(g.body.length, p.lines ?? 0, 'the stream gave the messages looked at');
    });
  }
});
