// deploy/grafana/gyre-storm.json: valid JSON, storm panels first, and every metric it queries exists (Gyre's
// registry or prom-client's default process metrics) — a renamed metric breaks this test, not the dashboard.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { registry } from '../../../src/metrics/registry.js';
import { REPO_ROOT } from '../../harness/gyre.js';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

describe('Grafana dashboard', () => {
  it('queries only metrics Gyre exports, storm row first', async () => {
    const d = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy', 'grafana', 'gyre-storm.json'), 'utf8')) as { panels: Panel[] };
    assert.equal(d.panels[0]?.type, 'row');
    assert.equal(d.panels[0]?.title, 'Storm');
    const exported = new Set<string>();
    for (const m of await registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m.name + s);
    }
    const used = new Set<string>();
    for (const p of d.panels) for (const t of p.targets ?? []) for (const m of t.expr.matchAll(/\b(centrifugo_|gyre_|process_|nodejs_)[a-z0-9_]+/g)) used.add(m[0]);
    assert.ok(used.size >= 15);
    for (const name of used) assert.ok(exported.has(name), `${name} is not exported`);
  });
});
