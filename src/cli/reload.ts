// Configuration reload on SIGHUP (docs/reload.md). The config is read again the way start-up read it (file, env,
// flags) and validated; an unreadable or invalid result is logged with its key path and changes nothing. A valid
// one is split by config/diff.ts: live keys go to the running server at once (no connection is dropped), every
// other changed key is logged as needing a restart and keeps its running value. Each reload ends with one log
// line and one increment of gyre_config_reloads_total{result}.

import type { Logger } from 'pino';
import { ConfigError, planReload, type GyreConfig, type LoadedConfig } from '../config/index.js';
import { pinoLevel } from '../logging.js';
import { metrics } from '../metrics/registry.js';

export type ReloadResult = 'ok' | 'invalid' | 'error' | 'ignored';

export interface ReloaderOptions {
  /** The config the server started with. */
  initial: Readonly<GyreConfig>;
  /** Loads and validates the config like start-up did; throws ConfigError. */
  load: () => LoadedConfig;
  logger: Logger;
  /**
   * Log the loaded config's warnings (unknown keys, …); default true. Under --workers every worker reloads the
   * same files, so only the first worker logs them, once per reload as one process does.
   */
  logWarnings?: boolean;
}

/** Applies a config to the running server; throws (changing nothing) when it cannot. */
export type ApplyConfig = (config: Readonly<GyreConfig>) => void;

export class ConfigReloader {
  private running: Readonly<GyreConfig>;
  private apply: ApplyConfig | undefined;
  /** A SIGHUP arrived before the server was up: reload once it is. */
  private pending = false;
  private closed = false;

  constructor(private readonly opts: ReloaderOptions) {
    this.running = opts.initial;
  }

  /** The config in effect now (restart-only keys as at start-up). */
  get config(): Readonly<GyreConfig> {
    return this.running;
  }

  /** The server is up: reloads go to `apply` from now on (and a reload requested during start-up runs now). */
  attach(apply: ApplyConfig): void {
    this.apply = apply;
    if (this.pending) {
      this.pending = false;
      this.reload();
    }
  }

  /** Shutdown started: later signals are logged and ignored. */
  close(): void {
    this.closed = true;
  }

  reload(): ReloadResult {
    const log = this.opts.logger;
    if (this.closed) {
      log.info('config reload ignored: shutting down');
      return 'ignored';
    }
    if (this.apply === undefined) {
      this.pending = true;
      log.info('config reload requested during start-up: it runs once the server is listening');
      return 'ignored';
    }
    log.info('reloading configuration');
    let loaded: LoadedConfig;
    try {
      loaded = this.opts.load();
    } catch (e) {
      return e instanceof ConfigError ? this.rejected(e) : this.failed(e);
    }
    if (this.opts.logWarnings !== false) for (const w of loaded.warnings) log.warn(w);
    const plan = planReload(this.running, loaded.config);
    try {
      if (plan.live.length > 0) this.apply(plan.config);
    } catch (e) {
      // ConfigError: a namespace the engine cannot serve (checked by the node, which knows the engine).
      return e instanceof ConfigError ? this.rejected(e) : this.failed(e);
    }
    for (const key of plan.restart) log.warn({ key }, 'config key changed, requires restart: keeping the running value');
    this.running = plan.config;
    log.level = pinoLevel(plan.config.log.level);
    metrics.configReloads.inc({ result: 'ok' });
    log.info({ file: loaded.file ?? null, applied: plan.live, requiresRestart: plan.restart }, 'configuration reloaded');
    return 'ok';
  }

  private rejected(e: ConfigError): ReloadResult {
    metrics.configReloads.inc({ result: 'invalid' });
    this.opts.logger.error(
      { key: e.path === '' ? undefined : e.path, reason: e.reason, code: e.code },
      'config reload rejected: keeping the running configuration',
    );
    return 'invalid';
  }

  private failed(err: unknown): ReloadResult {
    metrics.configReloads.inc({ result: 'error' });
    this.opts.logger.error({ err }, 'config reload failed: keeping the running configuration');
    return 'error';
  }
}

/** Reloads on every SIGHUP; returns the function that removes the listener. */
export function reloadOnSighup(signals: Pick<NodeJS.EventEmitter, 'on' | 'removeListener'>, reloader: ConfigReloader): () => void {
  const onHup = (): void => {
    reloader.reload();
  };
  signals.on('SIGHUP', onHup);
  return () => {
    signals.removeListener('SIGHUP', onHup);
  };
}
