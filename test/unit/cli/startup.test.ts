// serve's port check and start-up line: endpoint URLs per listener, a busy port refused in one line before the
// warm-up (a real `node bin/gyre.js` against a port this test holds).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkPorts, endpointUrls, startedLine } from '../../../src/cli/startup.js';
import { defaultConfig } from '../../../src/config/index.js';
import type { GyreConfig } from '../../../src/config/types.js';

const root = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gyre-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function hold(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr !== null ? addr.port : 0 });
    });
  });
}

function config(edit: (c: GyreConfig) => void): GyreConfig {
  const c = defaultConfig();
  edit(c);
  return c;
}

describe('start-up line', () => {
  it('lists each endpoint with its URL, internal ones on the internal port', () => {
    const c = config((c) => {
      c.http_server.address = '127.0.0.1';
      c.http_server.internal_port = 9001;
      c.health.enabled = true;
      c.prometheus.enabled = true;
    });
    assert.deepEqual(endpointUrls(c, { port: 9000, internalPort: 9001 }), [
      { name: 'websocket', url: 'ws://127.0.0.1:9000/connection/websocket' },
      { name: 'api', url: 'http://127.0.0.1:9001/api' },
      { name: 'metrics', url: 'http://127.0.0.1:9001/metrics' },
      { name: 'health', url: 'http://127.0.0.1:9001/health' },
    ]);
    const d = config((c) => {
      c.websocket.handler_prefix = '/ws';
      c.http_api.disabled = true;
    });
    assert.equal(startedLine(d, { port: 8000, internalPort: 8000 }), 'gyre started on http://localhost:8000: websocket ws://localhost:8000/ws');
    const tls = config((c) => {
      c.http_server.tls.enabled = true;
      c.http_server.tls_external = true;
      c.http_server.internal_port = 9001;
      c.health.enabled = true;
    });
    assert.deepEqual(
      endpointUrls(tls, { port: 9000, internalPort: 9001 }).map((e) => e.url),
      ['wss://localhost:9000/connection/websocket', 'http://localhost:9001/api', 'http://localhost:9001/health'],
    );
    // The admin UI is an endpoint a user needs to find: on the internal port unless admin.external.
    const admin = config((c) => {
      c.http_server.internal_port = 9001;
      c.admin.enabled = true;
      c.admin.handler_prefix = '/ops/';
    });
    assert.deepEqual(endpointUrls(admin, { port: 9000, internalPort: 9001 }).at(-1), {
      name: 'admin',
      url: 'http://localhost:9001/ops/admin/',
    });
    admin.admin.external = true;
    assert.equal(endpointUrls(admin, { port: 9000, internalPort: 9001 }).at(-1)?.url, 'http://localhost:9000/ops/admin/');
  });
});

describe('port check', () => {
  it('names the busy port and key; a free one passes', async () => {
    const { server, port } = await hold();
    try {
      const busy = config((c) => {
        c.http_server.address = '127.0.0.1';
        c.http_server.port = port;
      });
      assert.equal(await checkPorts(busy), `error: cannot listen on 127.0.0.1:${port} (http_server.port): address already in use`);
      const internal = config((c) => {
        c.http_server.address = '127.0.0.1';
        c.http_server.port = 0;
        c.http_server.internal_port = port;
      });
      assert.match((await checkPorts(internal)) ?? '', /^error: cannot listen on internal 127\.0\.0\.1:\d+ \(http_server\.internal_port\)/);
    } finally {
      server.close();
    }
    assert.equal(await checkPorts(config((c) => (c.http_server.port = 0))), undefined);
  });

  it('node bin/gyre.js on a busy port: one line on stderr, exit 1, no warm-up', async () => {
    const { server, port } = await hold();
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ client: { token: { hmac_secret_key: 's' } }, http_api: { key: 'k' } }));
    try {
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['bin/gyre.js', '-c', file, '-p', String(port), '-a', '127.0.0.1'],
          { cwd: root, env: { PATH: process.env['PATH'] ?? '' }, timeout: 20_000 },
          (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
        );
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stderr, `error: cannot listen on 127.0.0.1:${port} (http_server.port): address already in use\n`);
      assert.doesNotMatch(r.stdout, /warm-up|gyre started/);
    } finally {
      server.close();
    }
  });
});
