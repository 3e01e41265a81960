// Dockerfile: the build stage has what `npm run build` makes, so the image serves the admin web UI (dist/admin-ui)
// instead of its 503 "not built". No container engine runs here, so the file and .dockerignore are read: every
// COPY source of the build stage goes into the build context, and the admin UI is bundled before the prune (its
// bundler, esbuild, is a dev dependency).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../harness/gyre.js';

const lines = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim());
const buildStage = lines.slice(
  lines.findIndex((l) => l.startsWith('FROM ')),
  lines.findIndex((l, i) => i > 0 && l.startsWith('FROM ') && !l.includes(' AS build')),
);

/** .dockerignore with its `!` exceptions, for plain paths and top-level names as this repository uses them. */
function ignored(path: string): boolean {
  const rules = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  let out = false;
  for (const rule of rules) {
    const negate = rule.startsWith('!');
    const pattern = negate ? rule.slice(1) : rule;
    const hit = pattern.startsWith('*.') ? path.endsWith(pattern.slice(1)) : path === pattern || path.startsWith(`${pattern}/`);
    if (hit) out = !negate;
  }
  return out;
}

describe('Dockerfile', () => {
  it('every COPY source of the build stage exists and is in the build context', () => {
    const sources = buildStage
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1).filter((a) => !a.startsWith('--')));
    assert.ok(sources.includes('scripts/build-admin-ui.mjs'), sources.join(' '));
    for (const s of sources) {
      assert.ok(existsSync(join(REPO_ROOT, s)), `${s} missing`);
      assert.equal(ignored(s), false, `${s} is excluded by .dockerignore`);
    }
  });

  it('builds the admin web UI before dropping the dev dependencies', () => {
    const run = buildStage.find((l) => l.startsWith('RUN ') && l.includes('npm prune'));
    assert.ok(run !== undefined);
    const ui = run.indexOf('node scripts/build-admin-ui.mjs');
    assert.ok(ui >= 0 && ui < run.indexOf('npm prune'), run);
    // The script is copied alone: it must not import other files of scripts/.
    const script = readFileSync(join(REPO_ROOT, 'scripts', 'build-admin-ui.mjs'), 'utf8');
    assert.deepEqual(script.match(/from '\.{1,2}\/[^']*'/g), null);
  });
});
