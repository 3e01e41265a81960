// The root command: load config, start the server (app.ts, imported lazily so the other subcommands work even if
// it is broken), write the pid file, reload the config on SIGHUP (reload.ts), and shut down gracefully on
// SIGTERM/SIGINT under a shutdown.timeout watchdog.

import cluster from 'node:cluster';
import { rmSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { resolveWorkers } from '../cluster/count.js';
import { workerLink, type WorkerLink } from '../cluster/worker.js';
import { ConfigError, loadConfig, type GyreConfig } from '../config/index.js';
import { createLogger } from '../logging.js';
import { rateFromWarmup } from '../transports/handshake-rate.js';
import { warmUp } from '../warmup.js';
import { configErrorLine } from './load-config.js';
import { ConfigReloader, reloadOnSighup } from './reload.js';
import { checkPorts, startedLine } from './startup.js';

export interface RunningServer {
  /** This node's id (announced to the cluster primary by a worker). */
  nodeId?: string;
  port: number;
  /** The internal server's port when there is one (API, health, metrics). */
  internalPort?: number;
  /** Applies a reloaded config (SIGHUP); absent ⇒ reloads are logged and skipped. */
  reconfigure?(config: Readonly<GyreConfig>): void;
  close(): Promise<void>;
}

export type StartServer = (
  config: Readonly<GyreConfig>,
  opts: { logger: Logger; worker?: WorkerLink | undefined; handshakeRate?: number | undefined },
) => Promise<RunningServer>;

export interface ServeOptions {
  file?: string | undefined;
  flags: Record<string, unknown>;
}

/** Side effects, injectable for tests. */
export interface ServeDeps {
  importApp: () => Promise<unknown>;
  exit: (code: number) => void;
  stderr: (line: string) => void;
  /** SIGTERM/SIGINT (graceful shutdown) and SIGHUP (config reload). */
  signals: Pick<NodeJS.EventEmitter, 'on' | 'removeListener'>;
  /** Overrides the logger built from log.* (tests). */
  logger?: Logger;
  /** Overrides the start-up warm-up (tests; default src/warmup.ts). */
  warmUp?: typeof warmUp;
  /** Overrides the free-port check done before the warm-up (tests; default ./startup.ts). */
  checkPorts?: typeof checkPorts;
}

const APP_MODULE = '../app.js';

export const defaultServeDeps: ServeDeps = {
  importApp: () => import(APP_MODULE) as Promise<unknown>,
  exit: (code) => process.exit(code),
  stderr: (line) => process.stderr.write(`${line}\n`),
  signals: process,
};

function startServerOf(mod: unknown): StartServer | undefined {
  if (mod === null || typeof mod !== 'object' || !('startServer' in mod)) return undefined;
  const fn = mod.startServer;
  return typeof fn === 'function' ? (fn as StartServer) : undefined;
}

/** Runs the server until a signal; resolves after the exit code has been handed to deps.exit. */
export async function serve(opts: ServeOptions, deps: ServeDeps = defaultServeDeps): Promise<void> {
  let config: Readonly<GyreConfig>;
  let warnings: string[];
  let file: string | undefined;
  const load = () => loadConfig({ file: opts.file, flags: opts.flags });
  try {
    ({ config, warnings, file } = load());
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    deps.stderr(configErrorLine(e));
    deps.exit(1);
    return;
  }
  // A worker process (node.workers > 1): the primary checked the port, owns the pid file and sends the signals.
  const worker = workerLink();
  const baseLogger = deps.logger ?? createLogger(config.log);
  const logger = worker !== undefined ? baseLogger.child({ worker: worker.id }) : baseLogger;
  if (worker === undefined) for (const w of warnings) logger.warn(w);
  const workers = resolveWorkers(config.node.workers);
  if (worker === undefined && workers > 1 && cluster.isPrimary) {
    await servePrimary(config, workers, logger, deps);
    return;
  }
  if (worker === undefined) logger.info({ file: file ?? null, engine: config.engine.type }, 'configuration loaded');
  // From here on SIGHUP reloads (a SIGHUP during start-up waits for the server) instead of killing the process.
  const reloader = new ConfigReloader({ initial: config, load, logger, logWarnings: worker === undefined || worker.slot === 1 });
  const stopReloading = reloadOnSighup(deps.signals, reloader);
  const t = config.client.token;
  const hasConnectAuth =
    t.hmac_secret_key !== '' || t.rsa_public_key !== '' || t.ecdsa_public_key !== '' || t.jwks_public_endpoint !== '';
  if (!hasConnectAuth && !config.client.insecure && !config.client.allow_anonymous_connect_without_token) {
    logger.warn('no client.token key is configured: clients cannot connect; run `gyre genconfig` and start with -c config.json');
  }
  if (config.http_api.key === '' && !config.http_api.insecure && !config.http_api.disabled) {
    logger.warn('http_api.key is empty: every server API call gets 401; set http_api.key (gyre genconfig does)');
  }

  let startServer: StartServer | undefined;
  try {
    startServer = startServerOf(await deps.importApp());
  } catch (e) {
    logger.error({ err: e }, 'cannot load the server module');
  }
  if (startServer === undefined) {
    stopReloading();
    deps.stderr('error: the server module (app.ts) does not export startServer');
    deps.exit(1);
    return;
  }

  // A busy port is one line and exit 1 before the warm-up, not a stack trace after it.
  const busy = worker === undefined ? await (deps.checkPorts ?? checkPorts)(config) : undefined;
  if (busy !== undefined) {
    stopReloading();
    deps.stderr(busy);
    deps.exit(1);
    return;
  }

  const pidFile = worker === undefined ? config.pid_file : '';
  if (pidFile !== '') writeFileSync(pidFile, `${process.pid}\n`);
  const removePid = () => {
    if (pidFile !== '') rmSync(pidFile, { force: true });
  };

  // Before the real port opens: optimise the handshake and fan-out code on a private loopback copy.
  const warm = await (deps.warmUp ?? warmUp)(config, { logger, start: startServer });
  // What the warm-up's handshakes cost here is the admission guard's first estimate of this node's rate.
  const handshakeRate = warm === null ? undefined : rateFromWarmup(warm.subscribed, warm.connectActiveMs);

  // SIGTERM/SIGINT are handled from before the start: the server's ports answer (GET /health is 200) before the
  // start has finished (the async consumers start after the ports open), and a signal in that window used to meet
  // Node's default action and kill the process. A signal now waits for the start, then shuts down as usual; the
  // watchdog runs from the signal, so a start that hangs still ends within shutdown.timeout.
  let server: RunningServer | undefined = undefined;
  let stopping = false;
  let finished = false;
  let watchdog: NodeJS.Timeout | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const finish = (code: number) => {
    if (finished) return;
    finished = true;
    clearTimeout(watchdog);
    deps.signals.removeListener('SIGTERM', onSignal);
    deps.signals.removeListener('SIGINT', worker === undefined ? onSignal : ignoreSignal);
    stopReloading();
    removePid();
    deps.exit(code);
    resolveDone();
  };
  const shutdown = (running: RunningServer) => {
    running.close().then(
      () => {
        logger.info('shutdown complete');
        finish(0);
      },
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        finish(1);
      },
    );
  };
  function onSignal(signal: string): void {
    if (stopping) {
      logger.warn({ signal }, 'second signal during shutdown, exiting now');
      finish(1);
      return;
    }
    stopping = true;
    reloader.close();
    logger.info({ signal, timeoutMs: config.shutdown.timeout, starting: server === undefined }, 'shutting down');
    watchdog = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdown.timeout }, 'shutdown timeout exceeded');
      finish(1);
    }, config.shutdown.timeout);
    // Still starting: the start's continuation below shuts the server down once it is up.
    if (server !== undefined) shutdown(server);
  }
  deps.signals.on('SIGTERM', onSignal);
  // A worker stops when the primary says so (SIGTERM); Ctrl-C reaches the whole process group, the primary
  // included, which then sends that SIGTERM: a SIGINT of its own would count as a second signal.
  deps.signals.on('SIGINT', worker === undefined ? onSignal : ignoreSignal);

  // The start, unless the watchdog ends the process first (a signal came and the start outlived shutdown.timeout).
  const outcome = await Promise.race([
    startServer(config, { logger, worker, handshakeRate }).then(
      (s) => ({ ok: true as const, server: s }),
      (e: unknown) => ({ ok: false as const, err: e }),
    ),
    done.then(() => undefined),
  ]);
  if (outcome === undefined) return;
  if (!outcome.ok) {
    const e = outcome.err;
    // A config the engine cannot serve (e.g. history on a broker without history) fails here, not in loadConfig.
    if (e instanceof ConfigError) deps.stderr(configErrorLine(e));
    else if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') deps.stderr(`error: ${(e as Error).message}`);
    logger.error({ err: e }, 'server failed to start');
    finish(1);
    return;
  }
  server = outcome.server;
  const ports = { port: server.port, internalPort: server.internalPort ?? server.port };
  if (worker !== undefined) worker.announceReady(server.port, server.nodeId ?? '');
  else logger.info(ports, startedLine(config, ports));
  const running = server;
  reloader.attach((c) => {
    if (running.reconfigure === undefined) throw new Error('this server cannot apply a reloaded configuration');
    running.reconfigure(c);
  });
  // A signal came while starting.
  if (stopping) shutdown(running);
  await done;
}

function ignoreSignal(): void {
  /* see above */
}

/** The cluster primary: checks the port, writes the pid file, runs the workers until a signal stops them. */
async function servePrimary(config: Readonly<GyreConfig>, workers: number, logger: Logger, deps: ServeDeps): Promise<void> {
  const busy = await (deps.checkPorts ?? checkPorts)(config);
  if (busy !== undefined) {
    deps.stderr(busy);
    deps.exit(1);
    return;
  }
  const { checkWorkerArgs } = await import('../cluster/worker-args.js');
  const refused = checkWorkerArgs(config.node.worker_node_args);
  if (refused !== undefined) {
    deps.stderr(refused);
    deps.exit(1);
    return;
  }
  if (config.pid_file !== '') writeFileSync(config.pid_file, `${process.pid}\n`);
  const { runPrimary } = await import('../cluster/primary.js');
  await runPrimary({
    config,
    logger,
    workers,
    signals: deps.signals,
    exit: (code) => {
      if (config.pid_file !== '') rmSync(config.pid_file, { force: true });
      deps.exit(code);
    },
  });
}
