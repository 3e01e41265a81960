// Config loading for the CLI commands: ConfigError becomes `config error: <path>: <reason>` (one line per problem)
// and exit 1.

import { ConfigError, loadConfig, type LoadedConfig } from '../config/index.js';
import { CliExit } from './common.js';

function line(path: string, reason: string): string {
  return path === '' ? `config error: ${reason}` : `config error: ${path}: ${reason}`;
}

/** One `config error: <path>: <reason>` line per problem (several for unsupported keys). */
export function configErrorLines(e: ConfigError): string[] {
  return e.issues.map((i) => line(i.path, i.reason));
}

export function configErrorLine(e: ConfigError): string {
  return configErrorLines(e).join('\n');
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
