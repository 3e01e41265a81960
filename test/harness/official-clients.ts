// The official Python, Go and Java Centrifugo clients as runnable programs for tests. The Python client is
// installed from PyPI into a virtualenv, the Go one built with `go build` from test/fixtures/clients/go (modules
// from the Go module proxy), the Java one compiled against centrifuge-java from Maven Central; all land in
// node_modules/.cache/gyre-official-clients, keyed by version (Python) or by a hash of the fixture's files
// (Go, Java), and are reused when present. A first preparation downloads and compiles (a cold `go build` alone
// took 68 s on a 2-core machine at load 10), more than a test file's 120 s allow with the tests' own time, so
// scripts/run-tests.mjs prepares every client before the tests start (prepare-official-clients.ts); the tests
// prepare again, which is then only a look at the cache. Each `run…` starts the fixture program
// (test/fixtures/clients/*): it connects, subscribes, prints SUBSCRIBED, then `PUB <data>` for the first
// publication and exits.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './gyre.js';

const CACHE = join(REPO_ROOT, 'node_modules', '.cache', 'gyre-official-clients');
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'clients');
/** The centrifuge-python releases the tests run (0.6.0 for its empty Sec-WebSocket-Protocol line). */
export const PYTHON_VERSIONS = ['0.6.0', '0.7.0'] as const;
/** The most one preparation (every install or build command of one client, downloads included) may take. */
const PREPARE_TIMEOUT_MS = 600_000;

/** A client program ready to run, or the reason it cannot run on this machine. */
export type Prepared = { ok: true; command: string; args: readonly string[] } | { ok: false; reason: string };

function toolMissing(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Runs an install or build command to completion (exit 0), killed at `deadline`; rejects with its output otherwise. */
function run(cmd: string, args: readonly string[], deadline: number, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const left = deadline - Date.now();
    if (left <= 0) {
      reject(new Error(`${cmd} ${args.join(' ')}: no time left of the ${PREPARE_TIMEOUT_MS} ms preparation`));
      return;
    }
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], timeout: left, killSignal: 'SIGKILL' });
    let output = '';
    const keep = (d: string): void => {
      if (output.length < 65_536) output += d;
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${String(code ?? signal)}${signal === 'SIGKILL' ? ', killed at the preparation deadline' : ''}):\n${output}`));
    });
  });
}

/**
 * Builds `dir` once: `build` fills a private temporary folder that is then renamed into place, so test files
 * preparing the same client at the same time never see (or delete) each other's half-built folder. The
 * loser of a race drops its copy and uses the winner's.
 */
async function buildOnce(dir: string, marker: string, build: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(join(dir, marker))) return;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    if (existsSync(dir) && !existsSync(join(dir, marker))) rmSync(dir, { recursive: true, force: true }); // stale, pre-rename layout
    try {
      renameSync(tmp, dir);
    } catch (err) {
      if (!existsSync(join(dir, marker))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A virtualenv with centrifuge-python==`version` (installed once). */
export async function preparePython(version: string): Promise<Prepared> {
  if (toolMissing('python3', ['--version'])) return { ok: false, reason: 'python3 is not installed' };
  const deadline = Date.now() + PREPARE_TIMEOUT_MS;
  const dir = join(CACHE, `python-centrifuge-${version}`);
  const script = join(FIXTURES, 'python', 'client.py');
  // Only bin/python (a link to the base interpreter, found through pyvenv.cfg) is used, never the venv's
  // scripts with absolute shebangs, so the venv can be built elsewhere and moved.
  await buildOnce(dir, '.installed', async (tmp) => {
    await run('python3', ['-m', 'venv', tmp], deadline);
    await run(join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `centrifuge-python==${version}`], deadline);
    writeFileSync(join(tmp, '.installed'), `centrifuge-python==${version}\n`);
  });
  return { ok: true, command: join(dir, 'bin', 'python'), args: [script] };
}

/** The Go fixture built against the centrifuge-go version its go.mod pins (built once per fixture content). */
export async function prepareGo(): Promise<Prepared> {
  if (toolMissing('go', ['version'])) return { ok: false, reason: 'go is not installed' };
  const deadline = Date.now() + PREPARE_TIMEOUT_MS;
  const src = join(FIXTURES, 'go');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(src, f)));
  const bin = join(CACHE, `centrifuge-go-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(bin)) {
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${bin}.tmp-${process.pid}`;
    await run('go', ['build', '-o', tmp, '.'], deadline, { cwd: src, env: { ...process.env, GOFLAGS: '-mod=readonly' } });
    renameSync(tmp, bin);
  }
  return { ok: true, command: bin, args: [] };
}

/**
 * The Java fixture compiled against centrifuge-java from Maven Central (the version its pom.xml pins): Maven
 * resolves the classpath, javac compiles Client.java; both cached per fixture content.
 */
export async function prepareJava(): Promise<Prepared> {
  for (const [cmd, args] of [['java', ['-version']], ['javac', ['-version']], ['mvn', ['-v']]] as const) {
    if (toolMissing(cmd, [...args])) return { ok: false, reason: `${cmd} is not installed` };
  }
  const deadline = Date.now() + PREPARE_TIMEOUT_MS;
  const src = join(FIXTURES, 'java');
  const hash = createHash('sha256');
  for (const f of ['pom.xml', 'Client.java']) hash.update(readFileSync(join(src, f)));
  const dir = join(CACHE, `centrifuge-java-${hash.digest('hex').slice(0, 16)}`);
  const classes = join(dir, 'classes');
  const cpFile = join(dir, 'classpath.txt');
  await buildOnce(dir, '.built', async (tmp) => {
    const tmpCp = join(tmp, 'classpath.txt');
    mkdirSync(join(tmp, 'classes'), { recursive: true });
    await run('mvn', ['-q', '-B', '-f', join(src, 'pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${tmpCp}`], deadline);
    await run('javac', ['-cp', readFileSync(tmpCp, 'utf8').trim(), '-d', join(tmp, 'classes'), join(src, 'Client.java')], deadline);
    writeFileSync(join(tmp, '.built'), 'ok\n');
  });
  return { ok: true, command: 'java', args: ['-cp', `${classes}:${readFileSync(cpFile, 'utf8').trim()}`, 'Client'] };
}

export interface ClientRun {
  child: ChildProcess;
  /** Resolves once the program printed SUBSCRIBED. */
  subscribed: Promise<void>;
  /** Resolves with the data of the `PUB` line when the program exits 0; rejects with its output otherwise. */
  publication: Promise<string>;
}

export interface RunOptions {
  url: string;
  token: string;
  channel: string;
  protobuf: boolean;
  /** Accept any TLS certificate (a test's self-signed one). */
  insecure?: boolean;
  timeoutMs?: number;
}

/** Starts a prepared program (python: positional args; go: flags) and follows its output. */
export function startClient(kind: 'python' | 'go' | 'java', p: Prepared & { ok: true }, o: RunOptions): ClientRun {
  let args: string[];
  if (kind === 'python') {
    args = [...p.args, o.url, o.token, o.channel, o.protobuf ? 'protobuf' : 'json', ...(o.insecure === true ? ['insecure'] : [])];
  } else if (kind === 'go') {
    args = [...p.args, '-url', o.url, '-token', o.token, '-channel', o.channel, ...(o.protobuf ? ['-protobuf'] : []), ...(o.insecure === true ? ['-insecure'] : [])];
  } else {
    // centrifuge-java speaks Protobuf only and trusts the system CAs.
    if (!o.protobuf || o.insecure === true) throw new Error('the Java fixture runs Protobuf without TLS only');
    args = [...p.args, o.url, o.token, o.channel];
  }
  const child = spawn(p.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onSubscribed: (() => void) | undefined;
  const subscribed = new Promise<void>((resolve) => (onSubscribed = resolve));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.includes('SUBSCRIBED\n')) onSubscribed?.();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
  const publication = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      const line = out.split('\n').find((l) => l.startsWith('PUB '));
      if (code === 0 && line !== undefined) resolve(line.slice(4));
      else reject(new Error(`${kind} client exited ${code ?? signal ?? '?'}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  // A client that fails before subscribing must not leave `subscribed` pending forever.
  const subscribedOrExit = Promise.race([subscribed, publication.then(() => undefined)]);
  return { child, subscribed: subscribedOrExit, publication };
}
