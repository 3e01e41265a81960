// Shared CLI plumbing: a typed exit, config loading with the standard error line, console output.

import { ConfigError, loadConfig, type LoadedConfig } from '../config/index.js';

/** Thrown by subcommands to stop with a message on stderr and an exit code. */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

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

export function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Parses an integer option value (commander argParser). */
export function intOption(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new CliExit(`not an integer: ${JSON.stringify(value)}`);
  return Number(value);
}
