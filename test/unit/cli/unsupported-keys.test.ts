// The key rule through real `node bin/gyre.js` processes: a Centrifugo key Gyre does not implement (from the file,
// an env var or a flag) stops the server before it binds its port, exit 1, naming the key; unknown keys warn and
// the server starts; checkconfig reports both.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../harness/ports.js';
import { sleep } from '../../harness/wait.js';

const root = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gyre-unsupported-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = { client: { token: { hmac_secret_key: 'secret' } }, http_api: { key: 'key' }, health: { enabled: true } };
let n = 0;

function file(tree: Record<string, unknown>): string {
  const p = join(dir, `c${n++}.json`);
  writeFileSync(p, JSON.stringify({ ...base, ...tree }));
  return p;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Successful TCP connects to the server's port while the process ran. */
  accepted: number;
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Runs `node bin/gyre.js args` to its exit (at most 20 s), probing `port` all along. */
async function gyre(args: string[], env: Record<string, string> = {}, port?: number): Promise<Run> {
  const child = spawn(process.execPath, ['bin/gyre.js', ...args], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', GYRE_HTTP_SERVER_WARMUP_CONNECTIONS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  let accepted = 0;
  const probing = (async () => {
    for (let i = 0; i < 800 && !done && port !== undefined; i++) {
      if (await probe(port)) accepted++;
      await sleep(25);
    }
  })();
  const code = await exited;
  done = true;
  clearTimeout(killer);
  await probing;
  return { code, stdout, stderr, accepted };
}

async function refusedRun(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const port = await freePort();
  const r = await gyre([...args, '-p', String(port), '-a', '127.0.0.1'], env, port);
  assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.equal(r.accepted, 0, 'the port was bound');
  assert.doesNotMatch(r.stdout, /gyre started|warm-up/);
  return r;
}

const notSupported = (path: string) => new RegExp(`^config error: ${path.replace(/[.[\]]/g, '\\$&')}: not supported by Gyre yet`, 'm');

describe('unsupported Centrifugo keys (node bin/gyre.js)', () => {
  it('refuses them from the file, env and flags before binding the port; unknown keys warn; checkconfig reports both', async () => {
    const keys = [
      'webtransport.enabled',
      'graphite.enabled',
      'admin.web_path',
      'http_server.tls_autocert.enabled',
      'opentelemetry.enabled',
      'opentelemetry.api',
    ];
    const many = file({
      webtransport: { enabled: true },
      graphite: { enabled: true },
      admin: { enabled: true, web_path: '/srv/admin' },
      http_server: { tls_autocert: { enabled: true } },
      opentelemetry: { enabled: true, api: true },
      typo_key: 1,
    });
    const plain = file({});
    const mixed = file({ webtransport: { enabled: true }, typo_key: 1 });
    const unknownOnly = file({ typo_key: 1, webtransport: { enabled: false } });
    const [fromFile, consumer, redis, fromEnv, fromFlag, eqFlag, check, checkOk] = await Promise.all([
      refusedRun(['-c', many]),
      // The consumers list is implemented; an enabled consumer of a type Gyre does not run is refused by name.
      refusedRun(['-c', file({ consumers: [{ name: 'js', enabled: true, type: 'nats_jetstream' }] })]),
      refusedRun(['-c', file({ engine: { type: 'redis', redis: { history_use_lists: true } } })]),
      refusedRun(['-c', plain], { CENTRIFUGO_WEBTRANSPORT_ENABLED: 'true' }),
      refusedRun(['-c', plain, '--debug.enabled']),
      refusedRun([`-c=${plain}`, '--swagger.enabled=true']),
      gyre(['checkconfig', '-c', mixed]),
      gyre(['checkconfig', '-c', unknownOnly]),
    ]);
    for (const k of keys) assert.match(fromFile.stderr, notSupported(k), fromFile.stderr);
    assert.match(consumer.stderr, /^config error: consumers\[0\]\.type: consumer type "nats_jetstream" is not supported by Gyre/m);
    assert.match(redis.stderr, /^config error: engine\.redis\.history_use_lists: /m);
    assert.match(fromEnv.stderr, notSupported('webtransport.enabled'));
    assert.match(fromFlag.stderr, notSupported('debug.enabled'));
    assert.match(eqFlag.stderr, notSupported('swagger.enabled'));
    assert.equal(check.code, 1);
    assert.match(check.stderr, /^warning: unknown config key typo_key$/m);
    assert.match(check.stderr, notSupported('webtransport.enabled'));
    assert.equal(checkOk.code, 0, checkOk.stderr);
    assert.match(checkOk.stderr, /^warning: unknown config key typo_key$/m);

    // Positive control: the same keys at their defaults, plus an unknown one, start a server that warns.
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['bin/gyre.js', 'serve', '-c', unknownOnly, '-p', String(port), '-a', '127.0.0.1', '--swagger.enabled=false'],
      { cwd: root, env: { PATH: process.env['PATH'] ?? '', GYRE_HTTP_SERVER_WARMUP_CONNECTIONS: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let status = 0;
      for (let i = 0; i < 300 && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${port}/health`).then(
          (res) => res.status,
          () => 0,
        );
        if (status !== 200) await sleep(50);
      }
      assert.equal(status, 200, stdout);
      assert.match(stdout, /unknown config key typo_key/);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });
});
