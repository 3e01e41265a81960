// gyre-bench command line: scenarios as subcommands with shared options (commander), limit checks,
// progress, the hard deadline, and report output.
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { checkLoopbackUrl, parseSourceAddresses } from './addresses.js';
import { checkLimits, readMachineLimits } from './limits.js';
import type { LimitCheck, MachineLimits } from './limits.js';
import { parseCount, parseDuration, parseRates, parseSize } from './options.js';
import type { CommonOptions, ConnectOptions, FanoutOptions, HoldPublishOptions, IdleOptions, ScenarioName, StormOptions } from './options.js';
import { createProgress } from './progress.js';
import { writeHtmlReport } from './report/html.js';
import { buildReport, writeJsonReport } from './report/json.js';
import type { RunReport } from './report/json.js';
import { formatTextReport } from './report/text.js';
import { Deadline } from './runner.js';
import type { RunContext, ScenarioRun } from './scenarios/common.js';
import { runConnect } from './scenarios/connect.js';
import { runFanout } from './scenarios/fanout.js';
import { runIdle } from './scenarios/idle.js';
import { runStorm } from './scenarios/storm.js';

export type ParsedArgs =
  | { scenario: 'connect'; options: ConnectOptions }
  | { scenario: 'idle'; options: IdleOptions }
  | { scenario: 'fanout'; options: FanoutOptions }
  | { scenario: 'storm'; options: StormOptions };

const HARD_STOP_GRACE_MS = 20_000;

/** Option parser for commander (typed `unknown`: defaults stay human-readable strings for --help). */
function wrap(fn: (s: string) => unknown): (s: string) => unknown {
  return (s) => {
    try {
      return fn(s);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

function addCommon(cmd: Command, defaults: { clients: number; duration: string }): Command {
  return cmd
    .option('--url <ws-url>', 'client WebSocket endpoint', 'ws://127.0.0.1:8000/connection/websocket')
    .option('--api <http-url>', 'server HTTP API base', 'http://127.0.0.1:8000/api')
    .option('--api-key <key>', 'server API key (X-API-Key)')
    .option('--hmac-secret <secret>', 'HS256 secret: each client gets its own signed connection token')
    .option('--token-ttl <duration>', 'token lifetime (0 = no exp)', wrap(parseDuration), '1h')
    .option('--channel-prefix <prefix>', 'channel names are <prefix><n>', 'bench-')
    .option('--user-prefix <prefix>', 'user ids are <prefix><client index>', 'bench-user-')
    .option('-c, --clients <n>', 'number of client connections', wrap((s) => parseCount(s, 1_000_000)), defaults.clients)
    .option('--rate <per-second>', 'connect ramp: new connections per second (0 = all at once)', wrap((s) => parseCount(s)), 0)
    .option('-w, --workers <n>', 'worker threads per process (0 = clients run in the main thread)', wrap((s) => parseCount(s, 64)), availableParallelism())
    .option('--processes <n>', 'generator processes, each with its own fd limit, workers and slice of clients/source IPs', wrap((s) => parseCount(s, 64)), 1)
    .option('--source-ips <list>', 'source addresses, range or list (127.0.0.1-127.0.0.8)', wrap(parseSourceAddresses), '127.0.0.1')
    .option('-d, --duration <duration>', 'hold / stage / storm window duration', wrap(parseDuration), defaults.duration)
    .option('--timeout <duration>', 'hard deadline of the whole run', wrap(parseDuration), '120s')
    .option('--connect-timeout <duration>', 'per-connection deadline to be subscribed', wrap(parseDuration), '10s')
    .option('--json <file>', 'write the JSON report')
    .option('--html <file>', 'write the self-contained HTML report')
    .option('--server-pid <pid>', 'target server pid: sample /proc/<pid> RSS and CPU', wrap((s) => parseCount(s, 4_194_304)))
    .option('--strict', 'refuse to run when a generator limit would be hit', false)
    .option('-q, --quiet', 'no progress output', false);
}

/** Option values are parsed numbers, or the unparsed string defaults shown in --help. */
function ms(v: unknown, d: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseDuration(v);
  return d;
}

function common(o: Record<string, unknown>): CommonOptions {
  const str = (k: string): string | null => (typeof o[k] === 'string' ? o[k] : null);
  const num = (k: string, d: number): number => (typeof o[k] === 'number' ? o[k] : d);
  const dur = (k: string, d: number): number => ms(o[k], d);
  return {
    url: str('url') ?? '',
    api: str('api') ?? '',
    apiKey: str('apiKey'),
    hmacSecret: str('hmacSecret'),
    tokenTtlSeconds: Math.round(dur('tokenTtl', 3_600_000) / 1000),
    channelPrefix: str('channelPrefix') ?? 'bench-',
    userPrefix: str('userPrefix') ?? 'bench-user-',
    workers: num('workers', 1),
    processes: Math.max(1, num('processes', 1)),
    sourceIps: typeof o['sourceIps'] === 'string' ? parseSourceAddresses(o['sourceIps']) : Array.isArray(o['sourceIps']) ? o['sourceIps'].filter((x): x is string => typeof x === 'string') : ['127.0.0.1'],
    clients: num('clients', 0),
    rate: num('rate', 0),
    durationMs: dur('duration', 10_000),
    timeoutMs: dur('timeout', 120_000),
    connectTimeoutMs: dur('connectTimeout', 10_000),
    json: str('json'),
    html: str('html'),
    serverPid: typeof o['serverPid'] === 'number' ? o['serverPid'] : null,
    quiet: o['quiet'] === true,
    strict: o['strict'] === true,
  };
}

/** `--channels`, `--publish-rate` (one rate) and `--size` for the scenarios that hold connections. */
function addHoldPublish(cmd: Command): Command {
  return cmd
    .option('--channels <n>', 'number of channels (client i subscribes channel i % n)', wrap((s) => parseCount(s, 1_000_000)), 1)
    .option('--publish-rate <per-second>', 'publish through the HTTP API at this rate during the hold (sequence checks)', wrap((s) => parseCount(s, 1_000_000)), 0)
    .option('--size <bytes>', 'publication payload size', wrap(parseSize), '128');
}

function holdPublish(o: Record<string, unknown>): HoldPublishOptions {
  const channels = typeof o['channels'] === 'number' ? o['channels'] : 1;
  if (channels < 1) throw new InvalidArgumentError('--channels must be at least 1');
  return {
    channels,
    holdPublishRate: typeof o['publishRate'] === 'number' ? o['publishRate'] : 0,
    size: typeof o['size'] === 'number' ? o['size'] : typeof o['size'] === 'string' ? parseSize(o['size']) : 128,
  };
}

/** Builds the commander program; `onRun` receives the parsed scenario. */
export function buildProgram(onRun: (a: ParsedArgs) => Promise<void> | void): Command {
  const program = new Command('gyre-bench')
    .description('Load tester for Gyre and Centrifugo-compatible servers (loopback only; every run is bounded in count and time)')
    .showHelpAfterError();

  addHoldPublish(
    addCommon(program.command('connect').description('N clients connect + subscribe (all at once or --rate ramp); time-to-subscribed and failures by cause'), {
      clients: 1000,
      duration: '0s',
    }),
  )
    .option('--hold <duration>', 'keep the connections open this long before closing', wrap(parseDuration), '0s')
    .action(async (o: Record<string, unknown>) => {
      await onRun({ scenario: 'connect', options: { ...common(o), ...holdPublish(o), holdMs: ms(o['hold'], 0) } });
    });

  addHoldPublish(
    addCommon(program.command('idle').description('hold N connections for --duration answering pings; server RSS and CPU per connection with --server-pid'), {
      clients: 1000,
      duration: '30s',
    }),
  ).action(async (o: Record<string, unknown>) => {
    await onRun({ scenario: 'idle', options: { ...common(o), ...holdPublish(o) } });
  });

  addCommon(program.command('fanout').description('N subscribers over C channels; publish at staged rates; deliveries/s and publish→deliver latency'), {
    clients: 1000,
    duration: '10s',
  })
    .option('--channels <n>', 'number of channels (client i subscribes channel i % n)', wrap((s) => parseCount(s, 1_000_000)), 10)
    .option('--publish-rate <list>', 'publications per second; comma list = stages run one after another', wrap(parseRates), '100')
    .addOption(new Option('--publish-via <how>', 'publish through the HTTP API or a client connection').choices(['api', 'client']).default('api'))
    .option('--size <bytes>', 'publication payload size', wrap(parseSize), '128')
    .option('--latency-dump <file>', 'write every delivery (client index, seq, send and receive ms) to <file>.w<pool>, Float64 rows of 4')
    .action(async (o: Record<string, unknown>) => {
      const channels = typeof o['channels'] === 'number' ? o['channels'] : 10;
      if (channels < 1) throw new InvalidArgumentError('--channels must be at least 1');
      await onRun({
        scenario: 'fanout',
        options: {
          ...common(o),
          channels,
          publishRates: typeof o['publishRate'] === 'string' ? parseRates(o['publishRate']) : Array.isArray(o['publishRate']) ? o['publishRate'].filter((x): x is number => typeof x === 'number') : [100],
          publishVia: o['publishVia'] === 'client' ? 'client' : 'api',
          size: typeof o['size'] === 'number' ? o['size'] : typeof o['size'] === 'string' ? parseSize(o['size']) : 128,
          latencyDump: typeof o['latencyDump'] === 'string' ? o['latencyDump'] : null,
        },
      });
    });

  addHoldPublish(
    addCommon(program.command('storm').description('N clients; server restarted (--restart-cmd) or draining (--wait-drop); reconnect times and connect rate'), {
      clients: 1000,
      duration: '30s',
    }),
  )
    .option('--no-recover', 'resubscribe without asking for recovery (default: subscribe recoverable, resubscribe with recover, offset, epoch)')
    .option('--restart-cmd <cmd>', 'shell command that restarts the server (run by the tool)')
    .option('--wait-drop', 'wait for the server to drop the clients instead', false)
    .option('--max-delay <duration>', 'reconnect delay is uniform in [0, max-delay] (full jitter)', wrap(parseDuration), '2s')
    .action(async (o: Record<string, unknown>) => {
      const restartCmd = typeof o['restartCmd'] === 'string' ? o['restartCmd'] : null;
      if (restartCmd === null && o['waitDrop'] !== true) throw new InvalidArgumentError('storm needs --restart-cmd "<cmd>" or --wait-drop');
      await onRun({
        scenario: 'storm',
        options: { ...common(o), ...holdPublish(o), recover: o['recover'] !== false, restartCmd, waitDrop: o['waitDrop'] === true, maxDelayMs: ms(o['maxDelay'], 2000) },
      });
    });
  return program;
}

/** Parses argv (without node and script) into a scenario, without running it. Throws on bad input. */
export async function parseArgs(argv: readonly string[]): Promise<ParsedArgs> {
  let parsed: ParsedArgs | null = null;
  const program = buildProgram((a) => {
    parsed = a;
  });
  program.exitOverride();
  for (const c of program.commands) c.exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  for (const c of program.commands) c.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await program.parseAsync([...argv], { from: 'user' });
  if (parsed === null) throw new Error('no scenario given');
  return parsed;
}

export function preflight(a: ParsedArgs, machine: MachineLimits = readMachineLimits()): { limits: LimitCheck; errors: string[] } {
  const o = a.options;
  const errors: string[] = [];
  const usesApi = a.scenario === 'fanout' ? a.options.publishVia === 'api' : a.options.holdPublishRate > 0;
  for (const u of [o.url, ...(usesApi ? [o.api] : [])]) {
    const e = checkLoopbackUrl(u);
    if (e !== null) errors.push(e);
  }
  if (o.clients < 1) errors.push('--clients must be at least 1');
  const extra = usesApi || a.scenario === 'fanout' ? 64 : 0;
  const limits = checkLimits(
    { clients: o.clients, workers: o.workers, processes: o.processes, sourceAddresses: o.sourceIps.length, extraSockets: extra },
    machine,
  );
  return { limits, errors };
}

function runScenario(a: ParsedArgs, ctx: RunContext): Promise<ScenarioRun> {
  switch (a.scenario) {
    case 'connect':
      return runConnect(a.options, ctx);
    case 'idle':
      return runIdle(a.options, ctx);
    case 'fanout':
      return runFanout(a.options, ctx);
    case 'storm':
      return runStorm(a.options, ctx);
  }
}

/** Runs a parsed scenario to completion (or its deadline) and writes the reports. */
export async function execute(
  a: ParsedArgs,
  log: (l: string) => void = (l) => process.stderr.write(l + '\n'),
  onScenarioLog?: (l: string) => void,
): Promise<{ report: RunReport | null; exitCode: number }> {
  const o = a.options;
  const { limits, errors } = preflight(a);
  if (errors.length > 0) {
    for (const e of errors) log(`error: ${e}`);
    return { report: null, exitCode: 2 };
  }
  for (const p of limits.problems) log(`${o.strict ? 'error' : 'warning'}: ${p}`);
  if (!limits.ok && o.strict) return { report: null, exitCode: 2 };

  const progress = createProgress({ quiet: o.quiet, clients: o.clients });
  const deadline = Deadline.in(o.timeoutMs);
  const onSigint = (): void => deadline.interrupt();
  process.once('SIGINT', onSigint);
  const hardStop = setTimeout(() => {
    log(`error: run did not stop within ${HARD_STOP_GRACE_MS / 1000}s after its deadline; exiting`);
    process.exit(3);
  }, o.timeoutMs + HARD_STOP_GRACE_MS);
  hardStop.unref();
  const startedAt = Date.now();
  let run: ScenarioRun;
  try {
    const scenarioLog = (l: string): void => {
      progress.log(l);
      onScenarioLog?.(l);
    };
    run = await runScenario(a, { deadline, log: scenarioLog, onSample: (p, t) => progress.sample(p, t) });
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
    clearTimeout(hardStop);
  }
  const report = buildReport({
    scenario: a.scenario,
    startedAt,
    finishedAt: Date.now(),
    stopReason: run.stopReason,
    error: run.error,
    options: o,
    limits,
    warnings: [...limits.problems, ...run.warnings],
    clientsRequested: o.clients,
    agg: run.group.agg,
    extras: run.extras,
  });
  if (o.json !== null) writeJsonReport(o.json, report);
  if (o.html !== null) writeHtmlReport(o.html, report);
  const exitCode = report.stopReason === 'completed' ? 0 : report.stopReason === 'error' ? 1 : report.stopReason === 'interrupted' ? 130 : 2;
  return { report, exitCode };
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(async (a) => {
    const r = await execute(a);
    if (r.report !== null) process.stdout.write(formatTextReport(r.report) + '\n');
    exitCode = r.exitCode;
  });
  await program.parseAsync([...argv], { from: 'user' });
  return exitCode;
}

export const SCENARIOS: readonly ScenarioName[] = ['connect', 'idle', 'fanout', 'storm'];

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`gyre-bench: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
