// `gyre defaultconfig [-c file] [-d]`: the full default key tree (durations as strings like "25s").

import { defaultConfig, toFileShape } from '../config/index.js';
import { io, out } from './common.js';
import { serializeConfig } from './format.js';
import { writeNewFile } from './genconfig.js';

export function runDefaultconfig(opts: { config: string; dryRun: boolean }): void {
  const text = serializeConfig(toFileShape(defaultConfig()), opts.config);
  if (opts.dryRun) {
    io.stdout(text);
    return;
  }
  writeNewFile(opts.config, text);
  out(`${opts.config} created`);
}
