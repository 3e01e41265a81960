#!/usr/bin/env node
/* global fetch, AbortSignal */
// Runs the official centrifuge-js client's own test suite (tag 5.7.1, jest) against a server on localhost:8000:
// Gyre (`node bin/gyre.js`) or real Centrifugo, both with the suite's upstream test config (centrifugo_test.json).
// Not part of `npm test`: the suite is not committed, it is read from a cache.
//
//   node scripts/centrifuge-js-suite.mjs [--server gyre|centrifugo] [--source <centrifuge-js git dir>] [--cache <dir>]
//                                        [--without-map]   (drop the map and shared-poll namespaces from the config)
//                                        [--drop poll]     (drop only the shared_poll block and shared-poll namespaces)
//                                        [--test <regex>]  (run only the suite files matching it, e.g. map)
//                                        [--drop map]      (drop only map_broker and the map namespaces)
//
// The suite is taken from the cache (default ~/.cache/gyre/centrifuge-js-5.7.1, overridable with
// GYRE_CJS_SUITE_CACHE) when it is there, so later runs work offline; otherwise it is exported with
// `git archive 5.7.1` from --source (a clone or bare mirror of centrifugal/centrifuge-js) and its devDependencies
// are installed with npm once. The config's proxy endpoints (host.docker.internal) point at 127.0.0.1, where the
// suite's own poll backends listen. The server is stopped by its PID. Prints jest's totals and exits with jest's code.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TAG = '5.7.1';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const server = arg('server', 'gyre');
const cache = resolve(arg('cache', process.env.GYRE_CJS_SUITE_CACHE ?? join(homedir(), '.cache', 'gyre', `centrifuge-js-${TAG}`)));
const source = arg('source', process.env.GYRE_CJS_SOURCE);
const withoutMap = process.argv.includes('--without-map');
const drop = arg('drop', '');
const testPattern = arg('test', '');

function prepare() {
  if (!existsSync(join(cache, 'package.json'))) {
    if (source === undefined) {
      console.error(`no cached suite at ${cache}; pass --source <centrifuge-js git dir> once`);
      process.exit(2);
    }
    mkdirSync(cache, { recursive: true });
    const tar = execFileSync('git', ['--git-dir', resolveGitDir(source), 'archive', '--format=tar', TAG], { maxBuffer: 1 << 28 });
    execFileSync('tar', ['-x', '-C', cache], { input: tar });
  }
  if (!existsSync(join(cache, 'node_modules', 'jest'))) {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps'], { cwd: cache, stdio: 'inherit' });
  }
}

function resolveGitDir(dir) {
  return existsSync(join(dir, '.git')) ? join(dir, '.git') : dir;
}

function config() {
  const text = readFileSync(join(cache, 'centrifugo_test.json'), 'utf8').replaceAll('host.docker.internal', '127.0.0.1');
  const cfg = JSON.parse(text);
  cfg.health = { ...(cfg.health ?? {}), enabled: true };
  if (withoutMap) {
    // A partial run: no map/shared-poll namespaces, so a server without those features starts (their tests fail).
    delete cfg.map_broker;
    delete cfg.shared_poll;
    cfg.channel.namespaces = cfg.channel.namespaces.filter((ns) => ns.subscription_type === undefined && ns.shared_poll === undefined);
  }
  if (drop === 'poll') {
    // Only shared poll goes: the map namespaces stay, so map tests run against a server without shared poll.
    delete cfg.shared_poll;
    cfg.channel.namespaces = cfg.channel.namespaces.filter((ns) => ns.subscription_type !== 'shared_poll' && ns.shared_poll === undefined);
  }
  if (drop === 'map') {
    // A partial run: map subscriptions only are left out (their tests fail), shared poll stays.
    delete cfg.map_broker;
    cfg.channel.namespaces = cfg.channel.namespaces.filter((ns) => ns.subscription_type === undefined || ns.subscription_type === 'shared_poll');
  }
  cfg.http_server = { ...(cfg.http_server ?? {}), port: 8000 };
  const file = join(cache, 'centrifugo_test.local.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

function centrifugoBinary() {
  const candidates = [process.env.CENTRIFUGO_BIN, join(homedir(), 'go', 'bin', 'centrifugo')].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    console.error('centrifugo binary not found (scripts/install-centrifugo.sh)');
    process.exit(2);
  }
  return found;
}

async function healthy() {
  for (let i = 0; i < 150; i++) {
    try {
      const res = await fetch('http://127.0.0.1:8000/health', { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

prepare();
const cfg = config();
const cmd =
  server === 'centrifugo'
    ? [centrifugoBinary(), ['--config', cfg]]
    : [process.execPath, [join(repoRoot, 'bin', 'gyre.js'), '-c', cfg]];
const child = spawn(cmd[0], cmd[1], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.on('data', (b) => {
  if (stderr.length < 1 << 20) stderr += b.toString();
});
let exited = false;
child.on('exit', () => {
  exited = true;
});
const stop = () => {
  if (!exited) child.kill('SIGKILL');
};
process.on('exit', stop);

if (!(await healthy())) {
  console.error(`${server} did not become healthy on :8000`);
  console.error(stderr.split('\n').slice(-20).join('\n'));
  stop();
  process.exit(1);
}

const jestArgs = [join(cache, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--forceExit'];
if (testPattern !== '') jestArgs.push(testPattern);
const jest = spawn(process.execPath, jestArgs, {
  cwd: cache,
  stdio: ['ignore', 'inherit', 'pipe'],
});
let report = '';
jest.stderr.on('data', (b) => {
  process.stderr.write(b);
  report += b.toString();
});
const code = await new Promise((r) => jest.on('exit', (c) => r(c ?? 1)));
stop();
const totals = report.split('\n').filter((l) => /^(Tests|Test Suites):/.test(l));
console.log(`\n${server}: ${totals.join(' | ')}`);
process.exit(code);
