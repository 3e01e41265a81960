import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { BodyTooLargeError, readBody } from '../../../src/http/body.js';
import { healthHandler } from '../../../src/http/health.js';
import { metricsHandler } from '../../../src/http/metrics.js';
import { Router } from '../../../src/http/router.js';
import { closeServer, createHttpServer, listen } from '../../../src/http/server.js';

async function withServer(router: Router, fn: (base: string) => Promise<void>): Promise<void> {
  const server = createHttpServer(router.handle);
  const port = await listen(server, '127.0.0.1', 0, 511);
  assert.equal(port, (server.address() as AddressInfo).port);
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    await closeServer(server);
  }
}

describe('router and endpoints', () => {
  it('routes exact paths (query ignored) and answers 404 otherwise', async () => {
    const router = new Router().add('/health', healthHandler());
    await withServer(router, async (base) => {
      for (const method of ['GET', 'POST']) {
        const r = await fetch(`${base}/health?x=1`, { method });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-type'), 'application/json');
        assert.equal(await r.text(), '{}');
      }
      assert.equal((await fetch(`${base}/health/`)).status, 404);
      assert.equal((await fetch(`${base}/`)).status, 404);
    });
  });

  it('metrics endpoint refreshes before scraping and uses the registry content type', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'test_scrapes', help: 'scrapes', registers: [registry] });
    let refreshed = 0;
    const router = new Router().add('/metrics', metricsHandler(registry, pino({ level: 'silent' }), () => {
      refreshed++;
      c.inc();
    }));
    await withServer(router, async (base) => {
      const r = await fetch(`${base}/metrics`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), registry.contentType);
      assert.match(await r.text(), /^test_scrapes 1$/m);
      assert.equal(refreshed, 1);
    });
  });

  it('readBody enforces its byte limit', async () => {
    const results: string[] = [];
    const router = new Router().add('/b', (req, res) => {
      readBody(req, 10).then(
        (b) => {
          results.push(`ok:${b.toString()}`);
          res.end('ok');
        },
        (err: unknown) => {
          results.push(err instanceof BodyTooLargeError ? 'too-large' : 'error');
          res.writeHead(413, { Connection: 'close' }).end();
        },
      );
    });
    await withServer(router, async (base) => {
      assert.equal((await fetch(`${base}/b`, { method: 'POST', body: '0123456789' })).status, 200);
      assert.equal((await fetch(`${base}/b`, { method: 'POST', body: '01234567890' })).status, 413);
      assert.deepEqual(results, ['ok:0123456789', 'too-large']);
    });
  });

  it('listen rejects when the port is taken', async () => {
    const a = createHttpServer(new Router().handle);
    const port = await listen(a, '127.0.0.1', 0, 0);
    const b = createHttpServer(new Router().handle);
    try {
      await assert.rejects(listen(b, '127.0.0.1', port, 0), /EADDRINUSE/);
    } finally {
      await closeServer(a);
      await closeServer(b);
    }
  });
});
