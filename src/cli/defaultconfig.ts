// `gyre defaultconfig [-c file] [-d]`: the full default key tree (durations as strings like "25s").

import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, defaultConfig, toFileShape } from '../config/index.js';
import { out } from './common.js';
import { serializeConfig } from './format.js';
import { writeNewFile } from './genconfig.js';

export function registerDefaultconfig(program: Command): void {
  program
    .command('defaultconfig')
    .description('generate a configuration file with every key set to its default')
    .option('-c, --config <file>', 'file to create (.json, .yaml, .yml, .toml)', DEFAULT_CONFIG_FILE)
    .option('-d, --dry-run', 'print to stdout instead of writing the file', false)
    .action((opts: { config: string; dryRun: boolean }) => {
      const text = serializeConfig(toFileShape(defaultConfig()), opts.config);
      if (opts.dryRun) {
        process.stdout.write(text);
        return;
      }
      writeNewFile(opts.config, text);
      out(`${opts.config} created`);
    });
}
