// Gyre's version, read once from package.json next to the sources (src/ or dist/src/).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg: unknown = JSON.parse(readFileSync(p, 'utf8'));
      if (pkg !== null && typeof pkg === 'object' && 'version' in pkg && typeof pkg.version === 'string') {
        return pkg.version;
      }
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

export const VERSION: string = readVersion();

export function serverVersionString(): string {
  return `Gyre ${VERSION} (Centrifugo v6 compatible)`;
}
