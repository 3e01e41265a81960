// The same configuration in JSON, YAML and TOML (hand-written fixtures in test/fixtures/compat) gives servers that
// behave the same (docs/protocol.md §8.1 formats by extension, §8.3 keys, §1.10 ping advertised).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CentClient } from 'cent.js';
import { API_KEY, ClientPool, isRecord, replyWithId } from '../harness/clients.js';
import { REPO_ROOT, serializeConfig, startGyre, type ConfigFormat, type GyreProcess } from '../harness/gyre.js';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { connToken } from '../harness/tokens.js';
import { nextEvent } from '../harness/wait.js';
import { subscribeOutcome } from './outcome.js';

const FORMATS: ConfigFormat[] = ['json', 'yaml', 'toml'];
const fixture = (f: ConfigFormat): string => join(REPO_ROOT, 'test/fixtures/compat', `formats.${f}`);

describe('compat: config file formats', () => {
  const servers = new Map<string, GyreProcess>();
  const pool = new ClientPool();

  before(async () => {
    const started = await Promise.allSettled(
      FORMATS.map((f) => startGyre({}, { configFile: fixture(f) }).then((g) => servers.set(f, g))),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (failed !== undefined && failed.status === 'rejected') throw failed.reason;
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([...servers.values()].map((g) => g.stop()));
  });

  it('the harness writes YAML and TOML that parse back to the same tree as the JSON fixture', () => {
    const base = JSON.parse(readFileSync(fixture('json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(parseYaml(serializeConfig(base, 'yaml')), base);
    assert.deepEqual(JSON.parse(JSON.stringify(parseToml(serializeConfig(base, 'toml')))), base);
    // ...and the hand-written fixtures say the same thing.
    assert.deepEqual(parseYaml(readFileSync(fixture('yaml'), 'utf8')), base);
    assert.deepEqual(JSON.parse(JSON.stringify(parseToml(readFileSync(fixture('toml'), 'utf8')))), base);
  });

  it('invalid configuration (force_recovery without history) ⇒ the server refuses to start, exit code 1', async () => {
    const invalid = { channel: { namespaces: [{ name: 'broken', force_recovery: true }] } };
    await assert.rejects(startGyre(invalid, { format: 'yaml' }), /exited before becoming healthy \(code 1,/);
  });

  for (const f of FORMATS) {
    it(`${f} config file: ping interval, namespace options and API key all applied`, async () => {
      const g = servers.get(f);
      assert.ok(g, 'server started');
      const cent = new CentClient({ url: g.apiUrl, apiKey: API_KEY });
      const pos = await cent.publish({ channel: 'fmt:x', data: { f } });
      assert.equal(pos.offset, 1, 'history on for namespace fmt');

      const { client, rec } = pool.json(g.url, { token: await connToken({ sub: `u-${f}`, expIn: 600 }) });
      const connected = nextEvent(client, 'connected');
      client.connect();
      await connected;
      const res = replyWithId(rec, 1)?.['connect'];
      assert.ok(isRecord(res));
      assert.equal(res['ping'], 7, 'client.ping_interval "7s" advertised as 7');
      assert.equal(res['pong'], true);

      const ok = await subscribeOutcome(client.newSubscription('fmt:x'));
      assert.equal(ok.kind, 'subscribed');
      assert.equal(ok.ctx.recoverable, true, 'force_recovery from the namespace');
      assert.equal(ok.ctx.streamPosition?.offset, 1);
      assert.equal(ok.ctx.streamPosition?.epoch, pos.epoch);

      const plain = client.newSubscription('lobby');
      assert.equal((await subscribeOutcome(plain)).kind, 'subscribed', 'without_namespace options applied');
      assert.deepEqual(await plain.presenceStats(), { numClients: 1, numUsers: 1 });

      const unknown = await subscribeOutcome(client.newSubscription('other:x'));
      assert.equal(unknown.kind, 'unsubscribed');
      assert.equal(unknown.ctx.code, 102);
      const h = await client.history('fmt:x', { limit: 5 });
      assert.deepEqual(h.publications.map((p) => p.data), [{ f }]);
    });
  }
});
