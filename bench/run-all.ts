// `npm run bench`: the micro-benchmarks of the hot modules, one after another, each in its own child process
// (a fresh heap and JIT per bench, so one cannot warm or pollute the next) with a time bound; their output is
// passed through. The peer table (bench/table.ts) is not run here: it needs Centrifugo and 20+ minutes.
// Run: node --import tsx bench/run-all.ts [--only codec,writer,fanout,handshake-burst] [--quick]
//        [--timeout-sec S]   (--quick: fanout N=1000, handshake-burst N=500; default timeouts per bench below)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/servers.js';

interface Bench {
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly quickArgs: readonly string[];
  readonly timeoutSec: number;
}

const BENCHES: readonly Bench[] = [
  { name: 'codec', file: 'bench/codec.bench.ts', args: [], quickArgs: [], timeoutSec: 180 },
  { name: 'writer', file: 'bench/writer.bench.ts', args: [], quickArgs: [], timeoutSec: 180 },
  { name: 'json-decode', file: 'bench/json-decode.bench.ts', args: [], quickArgs: [], timeoutSec: 180 },
  { name: 'summary', file: 'bench/summary.bench.ts', args: [], quickArgs: [], timeoutSec: 120 },
  { name: 'fanout', file: 'bench/fanout.bench.ts', args: [], quickArgs: ['1000'], timeoutSec: 300 },
  // 3 runs × 2 sides, each run bounded at 60 s inside the bench.
  { name: 'handshake-burst', file: 'bench/handshake-burst.bench.ts', args: [], quickArgs: ['500'], timeoutSec: 420 },
];

const KILL_GRACE_MS = 5000;

interface Outcome {
  readonly name: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly sec: number;
}

function runOne(b: Bench, quick: boolean, timeoutSec: number): Promise<Outcome> {
  const args = ['--import', 'tsx', join(REPO_ROOT, b.file), ...(quick ? b.quickArgs : b.args)];
  process.stdout.write(`\n=== ${b.name}: node ${args.join(' ')} (timeout ${timeoutSec} s)\n`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    let timedOut = false;
    let hardKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      hardKill = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, timeoutSec * 1000);
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      if (hardKill !== undefined) clearTimeout(hardKill);
      resolve({ name: b.name, code, signal, timedOut, sec: (Date.now() - started) / 1000 });
    };
    child.once('exit', done);
    child.once('error', (err) => {
      process.stderr.write(`${b.name}: ${err.message}\n`);
      done(null, null);
    });
  });
}

function parseArgs(argv: readonly string[]): { benches: Bench[]; quick: boolean; timeoutSec: number | null } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = get('only')?.split(',').map((s) => s.trim());
  for (const n of only ?? []) {
    if (!BENCHES.some((b) => b.name === n)) throw new Error(`unknown bench "${n}" (known: ${BENCHES.map((b) => b.name).join(', ')})`);
  }
  const t = get('timeout-sec');
  const timeoutSec = t === undefined ? null : Number(t);
  if (timeoutSec !== null && !(Number.isInteger(timeoutSec) && timeoutSec >= 1 && timeoutSec <= 3600)) {
    throw new Error('--timeout-sec must be an integer in 1..3600');
  }
  return {
    benches: BENCHES.filter((b) => only === undefined || only.includes(b.name)),
    quick: argv.includes('--quick'),
    timeoutSec,
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const o = parseArgs(argv);
  const outcomes: Outcome[] = [];
  for (const b of o.benches) outcomes.push(await runOne(b, o.quick, o.timeoutSec ?? b.timeoutSec));
  process.stdout.write('\n=== summary\n');
  for (const r of outcomes) {
    const status = r.timedOut ? 'TIMED OUT' : r.code === 0 ? 'ok' : `FAILED (${r.code ?? r.signal ?? 'spawn error'})`;
    process.stdout.write(`${r.name.padEnd(16)} ${status.padEnd(20)} ${r.sec.toFixed(1)} s\n`);
  }
  return outcomes.every((r) => r.code === 0 && !r.timedOut) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench/run-all: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
