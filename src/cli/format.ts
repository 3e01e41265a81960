// Serialises a file-shaped config tree as json, yaml or toml, chosen by the file extension.

import { extname } from 'node:path';
import { stringify as toToml } from 'smol-toml';
import { stringify as toYaml } from 'yaml';
import { CliExit } from './common.js';

export function serializeConfig(tree: Record<string, unknown>, file: string): string {
  const ext = extname(file).toLowerCase();
  switch (ext) {
    case '.json':
      return `${JSON.stringify(tree, null, 2)}\n`;
    case '.yaml':
    case '.yml':
      return toYaml(tree);
    case '.toml':
      return `${toToml(tree)}\n`;
    default:
      throw new CliExit(`unsupported config format "${ext}" (use .json, .yaml, .yml or .toml)`);
  }
}
