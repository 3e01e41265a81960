// deploy/prometheus/*.yml must pass `promtool check rules` (Debian package `prometheus`; .ci/run installs it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../harness/gyre.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const dir = join(REPO_ROOT, 'deploy', 'prometheus');

describe('Prometheus alert rules', { skip: promtool.status === 0 ? false : 'promtool not installed (apt-get install prometheus)' }, () => {
  it('pass promtool check rules', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yml')).map((f) => join(dir, f));
    assert.ok(files.length > 0);
    const r = spawnSync('promtool', ['check', 'rules', ...files], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });
});
