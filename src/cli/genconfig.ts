// `gyre genconfig [-c file]`: a minimal config with fresh random secrets; never overwrites an existing file.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { CliExit, out } from './common.js';
import { serializeConfig } from './format.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export function generatedConfig(): Record<string, unknown> {
  return {
    client: { token: { hmac_secret_key: hex(32) }, allowed_origins: [] },
    http_api: { key: hex(32) },
    admin: { enabled: false, password: hex(16), secret: hex(32) },
  };
}

/** Writes the file exclusively (refuses to overwrite). */
export function writeNewFile(file: string, text: string): void {
  try {
    writeFileSync(file, text, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CliExit(`file ${file} already exists, not overwriting`);
    throw new CliExit(`cannot write ${file}: ${(e as Error).message}`);
  }
}

export function runGenconfig(opts: { config: string }): void {
  const text = serializeConfig(generatedConfig(), opts.config);
  writeNewFile(opts.config, text);
  out(`${opts.config} created`);
}
