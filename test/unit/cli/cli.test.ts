// The CLI subcommands run as child processes: `node --import tsx src/main.ts <cmd>`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gyre-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function gyre(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', ...args],
      { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('cli (child processes)', () => {
  it('version', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await gyre(['version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), `Gyre ${pkg.version} (Centrifugo v6 compatible)`);
  });

  it('genconfig refuses to overwrite; checkconfig exit codes', async () => {
    const file = join(dir, 'gen.yaml');
    const [first, bad] = await Promise.all([
      gyre(['genconfig', '-c', file]),
      gyre(['checkconfig', '-c', join(root, 'test/fixtures/config.json')], { GYRE_CLIENT_PING_INTERVAL: '5s' }),
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^config error: client\.ping_interval: /m);
    const before = readFileSync(file, 'utf8');
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, '{"port": 8000}');
    const [again, ok, strict] = await Promise.all([
      gyre(['genconfig', '-c', file]),
      gyre(['checkconfig', '-c', file, '--strict']),
      gyre(['checkconfig', '-c', unknown, '--strict']),
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /unknown config key port/);
  });

  it('gentoken output verifies with checktoken', async () => {
    const cfg = join(root, 'test/fixtures/config.json');
    const gen = await gyre(['gentoken', '-c', cfg, '-u', 'alice', '-t', '3600', '-q']);
    assert.equal(gen.code, 0, gen.stderr);
    const token = gen.stdout.trim();
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ client: { token: { hmac_secret_key: 'different' } } }));
    const [check, wrong] = await Promise.all([gyre(['checktoken', '-c', cfg, token]), gyre(['checktoken', '-c', other, token])]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /valid token for user "alice"/);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /token error: invalid/);
  });

  it('the server command reports config errors with exit 1', async () => {
    const r = await gyre(['-c', join(root, 'test/fixtures/config.json'), '--http_server.port', '99999']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^config error: http_server\.port: /m);
  });
});
