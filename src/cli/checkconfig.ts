// `gyre checkconfig [-c file] [-s]`: validate; exit 1 on errors (and, with --strict, on unknown keys).

import { CliExit, err } from './common.js';
import { loadOrExit } from './load-config.js';

export function runCheckconfig(opts: { config: string; strict: boolean }): void {
  const { warnings } = loadOrExit(opts.config);
  for (const w of warnings) err(`warning: ${w}`);
  if (opts.strict && warnings.length > 0) {
    throw new CliExit(`config error: ${warnings.length} unknown key(s) (strict mode)`);
  }
}
