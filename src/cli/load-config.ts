// Config loading for the CLI commands: ConfigError becomes `config error: <path>: <reason>` and exit 1.

import { ConfigError, loadConfig, type LoadedConfig } from '../config/index.js';
import { CliExit } from './common.js';

export function configErrorLine(e: ConfigError): string {
  return e.path === '' ? `config error: ${e.reason}` : `config error: ${e.path}: ${e.reason}`;
}

/** loadConfig, with ConfigError turned into a CliExit carrying `config error: <path>: <reason>`. */
export function loadOrExit(file: string | undefined, flags: Record<string, unknown> = {}): LoadedConfig {
  try {
    return loadConfig({ file, flags });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliExit(configErrorLine(e));
    throw e;
  }
}
