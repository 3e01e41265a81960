#!/usr/bin/env node
// Runs the whole suite: type-check, then every **/*.test.ts under test/ (or the given suites) with node:test
// through tsx. Usage: node scripts/run-tests.mjs [unit|contract|compat|e2e ...] [--no-typecheck] [--no-lint]
// Order: type-check (tsc: server, client page, client worker), build client/dist, lint (eslint, type-aware), the
// official clients (when compat runs), tests; at the end the slowest files and the failed tests;
// each flag skips only its own step.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const skipTypecheck = args.includes('--no-typecheck');
const skipLint = args.includes('--no-lint');
const suites = args.filter((a) => !a.startsWith('--'));

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const dirs = suites.length > 0 ? suites.map((s) => join(root, 'test', s)) : [join(root, 'test')];
const files = dirs.flatMap((d) => collect(d)).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// Started now, it runs beside the type-check, builds and lint; its output is printed once it is done.
const clientsPrepared = files.some((f) => relative(root, f).startsWith(join('test', 'compat')))
  ? new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/harness/prepare-official-clients.ts')], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
      child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
      child.once('error', (err) => resolve({ status: 1, output: `${output}${err.message}\n` }));
      child.once('close', (status) => resolve({ status, output }));
      // An earlier step that fails exits the run: the preparation goes with it.
      process.once('exit', () => {
        if (child.exitCode === null) child.kill();
      });
    })
  : undefined;

if (!skipTypecheck) {
  // The browser add-on (client/) has its own programs: DOM libs for the page code, WebWorker libs for the worker.
  for (const project of ['tsconfig.json', 'client/tsconfig.json', 'client/tsconfig.worker.json', 'src/admin/ui/tsconfig.json']) {
    console.log(`> tsc -p ${project}`);
    const tc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], {
      cwd: root,
      stdio: 'inherit',
    });
    if (tc.status !== 0) process.exit(tc.status ?? 1);
  }
}

// The committed protobuf code (src/protocol/gen, src/core/control/gen) must match its .proto files.
if (!skipTypecheck) {
  console.log('> gen-proto --check');
  const gp = spawnSync(process.execPath, [join(root, 'scripts/gen-proto.mjs'), '--check'], { cwd: root, stdio: 'inherit' });
  if (gp.status !== 0) process.exit(gp.status ?? 1);
}

// client/dist/ is what the browser tests load (npm run build:client).
console.log('> build:client');
const bc = spawnSync(process.execPath, [join(root, 'scripts/build-client.mjs')], { cwd: root, stdio: 'inherit' });
if (bc.status !== 0) process.exit(bc.status ?? 1);

// The admin web UI bundle (dist/admin-ui) that the admin e2e test loads in Chromium.
const ui = spawnSync(process.execPath, [join(root, 'scripts/build-admin-ui.mjs')], { cwd: root, stdio: 'inherit' });
if (ui.status !== 0) process.exit(ui.status ?? 1);

if (!skipLint) {
  console.log('> eslint .');
  const started = Date.now();
  const lint = spawnSync(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '.'], {
    cwd: root,
    stdio: 'inherit',
  });
  console.log(`> eslint finished in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  if (lint.status !== 0) process.exit(lint.status ?? 1);
}

// The official clients of the compat tests are installed and built before the tests: a first build (downloads
// and compiles) takes over a minute on a cold machine, and node:test's --test-timeout bounds each test file's
// whole run as well as each test, so inside the tests it pushed test/compat/official-clients.test.ts past 120 s.
if (clientsPrepared !== undefined) {
  const pc = await clientsPrepared;
  process.stdout.write(pc.output);
  if (pc.status !== 0) process.exit(pc.status ?? 1);
}

console.log(`> node --test (${files.length} files)`);
// TAP (or spec on a terminal) to stdout as before, and the failures alone to a file that is printed at the end.
const failuresDir = mkdtempSync(join(tmpdir(), 'gyre-test-failures-'));
const failuresFile = join(failuresDir, 'failures.txt');
const slowFile = join(failuresDir, 'slow-files.txt');
// node:test applies it to each test and to each file's whole run.
const TEST_TIMEOUT_MS = 120_000;
const mainReporter = process.stdout.isTTY ? 'spec' : 'tap';
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    `--test-reporter=${mainReporter}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts/failures-reporter.mjs')}`,
    `--test-reporter-destination=${failuresFile}`,
    `--test-reporter=${join(root, 'scripts/slow-files-reporter.mjs')}`,
    `--test-reporter-destination=${slowFile}`,
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, GYRE_TEST: '1', NODE_TEST_FILE_TIMEOUT_MS: String(TEST_TIMEOUT_MS) } },
);
if (existsSync(slowFile)) {
  console.log('> slowest files');
  console.log(readFileSync(slowFile, 'utf8').trimEnd());
}
if (existsSync(failuresFile)) {
  console.log('> failures');
  console.log(readFileSync(failuresFile, 'utf8').trimEnd());
}
rmSync(failuresDir, { recursive: true, force: true });
process.exit(r.status ?? 1);
