// Wire compatibility against real Centrifugo 6.9.1: the scripted raw-protocol sessions of wire-scenarios*.ts run
// against Gyre and are compared, after normalisation, with Centrifugo's traces recorded in
// test/fixtures/wire/*.json (so CI needs no Go). When the centrifugo binary is installed the same scripts also
// run against it live and Gyre is compared with that too.
// Re-record the fixtures: WIRE_RECORD=1 node --import tsx --test test/compat/wire-trace.test.ts
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findCentrifugo, startCentrifugo, type CentrifugoProcess } from '../harness/centrifugo.js';
import { REPO_ROOT, startGyre, type GyreProcess } from '../harness/gyre.js';
import { WireDriver, type Target, type TraceEntry } from '../harness/wire-driver.js';
import { diffTraces, normalizeTrace, renderTrace } from '../harness/wire-normalize.js';
import { serverScenarios } from './wire-scenarios-server.js';
import { clientScenarios, optionScenarios, tokenScenarios, WIRE_API_KEY, wireConfig, type Scenario } from './wire-scenarios.js';

const FIXTURE_DIR = join(REPO_ROOT, 'test/fixtures/wire');
const RECORD = process.env['WIRE_RECORD'] === '1';
const SCENARIOS: Record<string, Scenario> = {
  ...clientScenarios,
  ...tokenScenarios,
  ...optionScenarios,
  ...serverScenarios,
};

interface Fixture {
  scenario: string;
  recordedWith: string;
  trace: TraceEntry[];
}

/**
 * Deliberate differences between Gyre and Centrifugo. Each rule rewrites an entry of BOTH traces before they are
 * compared, and says why the difference is acceptable.
 */
const ALLOWED: ReadonlyArray<{ reason: string; apply: (e: TraceEntry) => TraceEntry }> = [
  {
    reason:
      'Framing: Centrifugo joins replies of one incoming frame into one or several frames depending on timing; ' +
      'centrifuge-js splits every frame on newlines, so only message contents and order are compared.',
    apply: (e) => (e.op === 'recv' ? { op: 'recv', conn: e.conn, msgs: e.msgs, frames: [] } : e),
  },
  {
    reason:
      'API info: Centrifugo adds `metrics` (a snapshot of its own internal Go metric names); Gyre exposes its ' +
      'metrics on /metrics instead. Everything else in the node entry is compared.',
    apply: (e) => (e.op === 'http' ? { ...e, response: dropNodeMetrics(e.response, '') } : e),
  },
  {
    reason:
      'Plain-text HTTP error bodies: Go appends "\\n" and its 404 text is "404 page not found"; clients only look ' +
      'at the status (the 404 comes from src/http/router.ts, the 400 text is pinned by test/unit/api).',
    apply: (e) =>
      e.op === 'http' && e.contentType === 'text/plain' && typeof e.response === 'string'
        ? { ...e, response: e.status === 404 ? '<not found>' : e.response.trimEnd() }
        : e,
  },
];

function dropNodeMetrics(v: unknown, key: string): unknown {
  if (Array.isArray(v)) return v.map((x) => dropNodeMetrics(x, key));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (key === 'nodes' && k === 'metrics') continue;
    out[k] = dropNodeMetrics(x, k);
  }
  return out;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function assertSameTrace(actual: readonly TraceEntry[], expected: readonly TraceEntry[], what: string): void {
  const diff = diffTraces(comparable(expected), comparable(actual));
  if (diff !== '') assert.fail(`${what}\n${diff}`);
}

function comparable(trace: readonly TraceEntry[]): string[] {
  let t = trace.map((e) => canonical(e) as TraceEntry);
  for (const rule of ALLOWED) t = t.map(rule.apply);
  return renderTrace(t);
}

async function record(target: Target, scenario: Scenario): Promise<TraceEntry[]> {
  const d = new WireDriver(target);
  try {
    await scenario(d);
    await d.finish();
  } finally {
    d.destroy();
  }
  return normalizeTrace(d.trace);
}

function fixturePath(name: string): string {
  return join(FIXTURE_DIR, `${name}.json`);
}

function readFixture(name: string): Fixture | undefined {
  const p = fixturePath(name);
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as Fixture;
}

const centrifugoBin = findCentrifugo();

describe('wire trace: Gyre vs Centrifugo 6.9.1', { timeout: 60_000 }, () => {
  let gyre: GyreProcess | undefined;
  let centrifugo: CentrifugoProcess | undefined;
  const gyreTraces = new Map<string, Promise<TraceEntry[]>>();

  before(async () => {
    const [g, c] = await Promise.all([
      startGyre(wireConfig()),
      centrifugoBin !== undefined ? startCentrifugo(wireConfig(), { binary: centrifugoBin }) : undefined,
    ]);
    gyre = g;
    centrifugo = c;
  });

  after(async () => {
    await Promise.all([gyre?.stop(), centrifugo?.stop()]);
  });

  function gyreTrace(name: string, scenario: Scenario): Promise<TraceEntry[]> {
    let p = gyreTraces.get(name);
    if (p === undefined) {
      assert.ok(gyre !== undefined);
      p = record({ url: gyre.url, apiUrl: gyre.apiUrl, apiKey: WIRE_API_KEY }, scenario);
      gyreTraces.set(name, p);
    }
    return p;
  }

  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    test(`${name}: live Centrifugo vs Gyre${RECORD ? ' (recording fixture)' : ''}`, async (t) => {
      if (centrifugo === undefined) {
        t.skip('centrifugo binary not installed (scripts/install-centrifugo.sh); compared with fixtures only');
        return;
      }
      const target = { url: centrifugo.url, apiUrl: centrifugo.apiUrl, apiKey: WIRE_API_KEY };
      const [ref, mine] = await Promise.all([record(target, scenario), gyreTrace(name, scenario)]);
      if (RECORD) {
        mkdirSync(FIXTURE_DIR, { recursive: true });
        const fixture: Fixture = { scenario: name, recordedWith: 'centrifugo 6.9.1 (JSON over WebSocket)', trace: ref };
        writeFileSync(fixturePath(name), `${JSON.stringify(fixture, null, 1)}\n`);
      } else {
        const stored = readFixture(name);
        if (stored !== undefined) {
          assertSameTrace(ref, stored.trace, 'live Centrifugo differs from the fixture (stale? re-record with WIRE_RECORD=1)');
        }
      }
      assertSameTrace(mine, ref, 'Gyre differs from live Centrifugo');
    });

    test(`${name}: recorded Centrifugo fixture vs Gyre`, async () => {
      const stored = readFixture(name);
      assert.ok(stored !== undefined, `missing ${fixturePath(name)}: record it with WIRE_RECORD=1 and centrifugo installed`);
      const mine = await gyreTrace(name, scenario);
      assertSameTrace(mine, stored.trace, 'Gyre differs from the recorded Centrifugo trace');
    });
  }
});
