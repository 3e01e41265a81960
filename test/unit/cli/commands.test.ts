// The CLI subcommands in-process through runCli (output captured); cli.test.ts covers the real process.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../../../src/cli/index.js';
import { io } from '../../../src/cli/common.js';

const root = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gyre-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function gyre(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const saved = { ...io };
  io.stdout = (s) => {
    stdout += s;
  };
  io.stderr = (s) => {
    stderr += s;
  };
  try {
    const code = await runCli(['node', 'gyre', ...args]);
    return { code, stdout, stderr };
  } finally {
    Object.assign(io, saved);
  }
}

describe('cli (in-process)', () => {
  it('--help lists only implemented keys, every extension key, and the serve alias', async () => {
    const { gyreExtensionKeys } = await import('../../../src/config/support.js');
    for (const args of [['--help'], ['serve', '--help']]) {
      const r = await gyre(args);
      assert.equal(r.code, 0, r.stderr);
      for (const hidden of ['admin.web_path', 'webtransport', 'grpc_api.reflection', 'swagger', 'debug.']) {
        assert.ok(!r.stdout.includes(`--${hidden}`), `${args.join(' ')} advertises --${hidden}`);
      }
      for (const key of ['http_server.port', 'health.enabled', 'admin.enabled', 'admin.insecure', ...gyreExtensionKeys()]) {
        assert.ok(r.stdout.includes(`--${key} `), `${args.join(' ')} lacks --${key}`);
      }
    }
    assert.match((await gyre(['--help'])).stdout, /^ {2}serve \[options\]/m);
  });

  it('defaultconfig has no key Gyre does not implement (the admin block without web_path)', async () => {
    const r = await gyre(['defaultconfig', '-d', '-c', 'x.json']);
    assert.equal(r.code, 0, r.stderr);
    const tree = JSON.parse(r.stdout) as Record<string, unknown>;
    const admin = tree['admin'] as Record<string, unknown>;
    assert.equal(admin['enabled'], false);
    assert.equal(admin['web_path'], undefined);
    assert.ok('http_server' in tree && 'client' in tree);
  });

  it('version', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await gyre(['version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), `Gyre ${pkg.version} (Centrifugo v6 compatible)`);
  });

  it('genconfig writes each format with fresh secrets and refuses to overwrite', async () => {
    const secrets = new Set<string>();
    for (const ext of ['json', 'yaml', 'yml', 'toml']) {
      const file = join(dir, `gen.${ext}`);
      const r = await gyre(['genconfig', '-c', file]);
      assert.equal(r.code, 0, r.stderr);
      const text = readFileSync(file, 'utf8');
      const tree = (ext === 'json' ? JSON.parse(text) : ext === 'toml' ? parseToml(text) : parseYaml(text)) as {
        client: { token: { hmac_secret_key: string } };
        http_api: { key: string };
        admin: { enabled: boolean; password: string; secret: string };
      };
      assert.match(tree.client.token.hmac_secret_key, /^[0-9a-f]{64}$/);
      assert.match(tree.http_api.key, /^[0-9a-f]{64}$/);
      assert.equal(tree.admin.enabled, false, 'the admin is offered switched off, with fresh credentials');
      assert.match(tree.admin.password, /^[0-9a-f]{32}$/);
      assert.match(tree.admin.secret, /^[0-9a-f]{64}$/);
      secrets.add(tree.client.token.hmac_secret_key);
      // the generated file is a valid config, even in strict mode
      assert.equal((await gyre(['checkconfig', '-c', file, '--strict'])).code, 0);
    }
    assert.equal(secrets.size, 4);
    const file = join(dir, 'gen.json');
    const before = readFileSync(file, 'utf8');
    const again = await gyre(['genconfig', '-c', file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.equal((await gyre(['genconfig', '-c', join(dir, 'gen.ini')])).code, 1);
    assert.equal(existsSync(join(dir, 'gen.ini')), false);
  });

  it('checkconfig exit codes: valid, invalid value, cross-field, unknown keys (strict), missing file', async () => {
    const write = (name: string, tree: unknown) => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(tree));
      return p;
    };
    assert.equal((await gyre(['checkconfig', '-c', join(root, 'test/fixtures/config.toml')])).code, 0);
    const bad = await gyre(['checkconfig', '-c', write('bad.json', { client: { ping_interval: '5s' } })]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^config error: client\.ping_interval: /m);
    const badValue = await gyre(['checkconfig', '-c', write('bad2.json', { http_server: { port: 'x' } })]);
    assert.equal(badValue.code, 1);
    assert.match(badValue.stderr, /^config error: http_server\.port: /m);
    const unknown = write('unknown.json', { port: 8000 });
    const lax = await gyre(['checkconfig', '-c', unknown]);
    assert.equal(lax.code, 0);
    assert.match(lax.stderr, /unknown config key port/);
    assert.equal((await gyre(['checkconfig', '-c', unknown, '-s'])).code, 1);
    assert.equal((await gyre(['checkconfig', '-c', join(dir, 'missing.json')])).code, 1);
  });

  it('defaultconfig renders every default with duration strings; -d prints', async () => {
    const r = await gyre(['defaultconfig', '-c', join(dir, 'defaults.yaml'), '-d']);
    assert.equal(r.code, 0);
    const tree = parseYaml(r.stdout) as { client: { ping_interval: string }; channel: { history_meta_ttl: string } };
    assert.equal(tree.client.ping_interval, '25s');
    assert.equal(tree.channel.history_meta_ttl, '720h');
    assert.equal(existsSync(join(dir, 'defaults.yaml')), false);
    const file = join(dir, 'defaults.toml');
    assert.equal((await gyre(['defaultconfig', '-c', file])).code, 0);
    assert.equal((await gyre(['checkconfig', '-c', file, '--strict'])).code, 0);
    assert.equal((await gyre(['defaultconfig', '-c', file])).code, 1);
  });

  it('gentoken output verifies with checktoken; subscription tokens likewise', async () => {
    const cfg = join(root, 'test/fixtures/config.json');
    const gen = await gyre(['gentoken', '-c', cfg, '-u', 'alice', '-t', '3600', '-q']);
    assert.equal(gen.code, 0, gen.stderr);
    const token = gen.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const check = await gyre(['checktoken', '-c', cfg, token]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /valid token for user "alice"/);
    assert.match(check.stdout, /"exp":\d+/);
    // wrong key ⇒ invalid
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ client: { token: { hmac_secret_key: 'different' } } }));
    const wrong = await gyre(['checktoken', '-c', other, token]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /token error: invalid/);
    // a connection token is not a subscription token
    assert.equal((await gyre(['checksubtoken', '-c', cfg, token])).code, 1);

    const sub = await gyre(['gensubtoken', '-c', cfg, '-u', 'bob', '-s', 'news', '-t', '-1', '-q']);
    assert.equal(sub.code, 0, sub.stderr);
    const subCheck = await gyre(['checksubtoken', '-c', cfg, sub.stdout.trim()]);
    assert.equal(subCheck.code, 0, subCheck.stderr);
    assert.match(subCheck.stdout, /user "bob" and channel "news"/);
    assert.match(subCheck.stdout, /expires: never/);
    // gensubtoken requires a channel
    assert.equal((await gyre(['gensubtoken', '-c', cfg, '-u', 'bob'])).code, 1);
  });

  it('gentoken without an HMAC key fails; non-quiet output names the user', async () => {
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '{}');
    const r = await gyre(['gentoken', '-c', empty, '-u', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /client\.token\.hmac_secret_key/);
    const ok = await gyre(['gentoken', '-c', join(root, 'test/fixtures/config.yaml'), '-u', 'carol']);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /JWT for user "carol" with expiration TTL 168h/);
  });

});
