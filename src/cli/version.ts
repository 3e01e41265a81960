// `gyre version`

import type { Command } from 'commander';
import { serverVersionString } from '../version.js';
import { out } from './common.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version')
    .action(() => out(serverVersionString()));
}
