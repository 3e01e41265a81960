// The CLI subcommands run as child processes: `node --import tsx src/main.ts <cmd>`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
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
  // Two parallel batches keep the file fast: the second batch needs files and tokens made by the first.
  it('genconfig refuses to overwrite; checkconfig exit codes; gentoken verifies with checktoken; serve config errors', async () => {
    const file = join(dir, 'gen.yaml');
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, '{"port": 8000}');
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ client: { token: { hmac_secret_key: 'different' } } }));
    const cfg = join(root, 'test/fixtures/config.json');

    const [gen, bad, strict, server, token] = await Promise.all([
      gyre(['genconfig', '-c', file]),
      gyre(['checkconfig', '-c', cfg], { GYRE_CLIENT_PING_INTERVAL: '5s' }),
      gyre(['checkconfig', '-c', unknown, '--strict']),
      gyre(['-c', cfg, '--http_server.port', '99999']),
      gyre(['gentoken', '-c', cfg, '-u', 'alice', '-t', '3600', '-q']),
    ]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^config error: client\.ping_interval: /m);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /unknown config key port/);
    assert.equal(server.code, 1);
    assert.match(server.stderr, /^config error: http_server\.port: /m);
    assert.equal(token.code, 0, token.stderr);
    const jwt = token.stdout.trim();

    const before = readFileSync(file, 'utf8');
    const [again, ok, check, wrong] = await Promise.all([
      gyre(['genconfig', '-c', file]),
      gyre(['checkconfig', '-c', file, '--strict']),
      gyre(['checktoken', '-c', cfg, jwt]),
      gyre(['checktoken', '-c', other, jwt]),
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /valid token for user "alice"/);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /token error: invalid/);
  });

  it('a reader that closes stdout early (`gyre gentoken | head -1`) ends the command without an EPIPE trace', async () => {
    const cfg = join(root, 'test/fixtures/config.json');
    const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
          cwd: root,
          env: { PATH: process.env['PATH'] ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout.destroy(); // the read end closes before the command writes anything
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const [token, help] = await Promise.all([run(['gentoken', '-c', cfg, '-u', '42']), run(['--help'])]);
    for (const r of [token, help]) {
      assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/, r.stderr);
      assert.equal(r.code, 0, r.stderr);
    }
  });
});
