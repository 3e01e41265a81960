// `gyre checkconfig [-c file] [-s]`: validate; exit 1 on errors (and, with --strict, on unknown keys).

import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../config/index.js';
import { CliExit, err, loadOrExit } from './common.js';

export function registerCheckconfig(program: Command): void {
  program
    .command('checkconfig')
    .description('check the configuration file')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_FILE)
    .option('-s, --strict', 'fail on unknown keys', false)
    .action((opts: { config: string; strict: boolean }) => {
      const { warnings } = loadOrExit(opts.config);
      for (const w of warnings) err(`warning: ${w}`);
      if (opts.strict && warnings.length > 0) {
        throw new CliExit(`config error: ${warnings.length} unknown key(s) (strict mode)`);
      }
    });
}
