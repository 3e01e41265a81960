// `gyre checkconfig [-c file] [-s]`: validate and report. Unknown keys are warnings (an error with --strict);
// Centrifugo keys Gyre does not implement, and every other config error, exit 1 (docs/config.md).

import { ConfigError, loadConfig } from '../config/index.js';
import { serverTls } from '../http/tls.js';
import { CliExit, err } from './common.js';
import { configErrorLine } from './load-config.js';

export function runCheckconfig(opts: { config: string; strict: boolean }): void {
  let warnings: readonly string[];
  try {
    const loaded = loadConfig({ file: opts.config });
    warnings = loaded.warnings;
    // Certificates and keys are read as `serve` reads them, so a bad one fails here too.
    serverTls(loaded.config.http_server);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const w of e.warnings) err(`warning: ${w}`);
    throw new CliExit(configErrorLine(e));
  }
  for (const w of warnings) err(`warning: ${w}`);
  if (opts.strict && warnings.length > 0) {
    throw new CliExit(`config error: ${warnings.length} unknown key(s) (strict mode)`);
  }
}
