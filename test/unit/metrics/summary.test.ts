// Gyre's summary metric (src/metrics/summary.ts): quantiles against an exact sort of the same observations, the
// sliding window's aging on a clock the test moves, the exposition through a real prom-client Registry (next to
// prom-client's own Summary, and checked by promtool when it is installed), and the label API.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Registry, Summary } from 'prom-client';
import { rankOf, WindowSummary } from '../../../src/metrics/summary.js';
import { metricUpdateErrors } from '../../../src/metrics/update-errors.js';
import { parseScrape, total } from '../../harness/prom-text.js';

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[rankOf(q, sorted.length) - 1]!;
}

const QS = [0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1];

/** A summary on a clock the test sets (ms). */
function summaryAt(clock: { t: number }, maxAgeSeconds = 60, ageBuckets = 2): WindowSummary<'method'> {
  return new WindowSummary({ name: 's', help: 'h', labelNames: ['method'], percentiles: QS, maxAgeSeconds, ageBuckets, now: () => clock.t });
}

describe('WindowSummary quantiles', () => {
  const rnd = random(42);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const cases: Record<string, () => number> = {
    'log-uniform 1 µs .. 2 h': () => 1e-6 * 10 ** (rnd() * Math.log10(7200 / 1e-6)),
    'uniform 0 .. 10 ms': () => rnd() * 0.01,
    'lognormal around 200 µs (skewed)': () => 2e-4 * Math.exp(1.2 * normal()),
    'Pareto tail (alpha 1.1) from 50 µs': () => 5e-5 / (1 - rnd()) ** (1 / 1.1),
    '99 % at 80 µs, 1 % at 3 s': () => (rnd() < 0.99 ? 8e-5 * (1 + rnd() * 0.01) : 3 + rnd()),
  };
  for (const [what, draw] of Object.entries(cases)) {
    it(`within 0.79 % of an exact sort: ${what}`, () => {
      const s = summaryAt({ t: 0 }).labels('m');
      const values: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        const v = draw();
        values.push(v);
        s.observe(v);
      }
      values.sort((a, b) => a - b);
      const got = s.quantiles(QS);
      QS.forEach((q, i) => {
        const exact = exactQuantile(values, q);
        const estimate = got[i]!;
        const err = Math.abs(estimate - exact) / exact;
        assert.ok(err <= 0.0079, `q ${q}: ${estimate} against exact ${exact} (${(err * 100).toFixed(3)} %)`);
      });
      assert.equal(s.count, values.length);
      assert.ok(Math.abs(s.sum - values.reduce((a, b) => a + b, 0)) < 1e-9 * s.sum);
    });
  }

  it('few observations: the extremes are exact (clamped to the window min and max)', () => {
    const s = summaryAt({ t: 0 }).labels('m');
    s.observe(0.00123);
    assert.deepEqual(s.quantiles([0.5, 0.999]), [0.00123, 0.00123]);
    s.observe(0.5);
    s.observe(0.02);
    // Ranks 2 and 3 of 3: the median's bucket midpoint, the largest exactly.
    const [median, top] = s.quantiles([0.5, 0.999]);
    assert.ok(Math.abs(median! - 0.02) / 0.02 <= 0.0079, String(median));
    assert.equal(top, 0.5);
  });

  it('values outside 60 ns .. 18 h (and 0) read back as the window minimum and maximum', () => {
    const s = summaryAt({ t: 0 }).labels('m');
    for (const v of [0, 1e-9, 1e-9, 0.001, 1e6]) s.observe(v);
    const [q20, q60, q80, q100] = s.quantiles([0.2, 0.6, 0.8, 1]);
    assert.equal(q20, 0);
    assert.equal(q60, 0, 'rank 3 (1e-9) is in the bucket below 60 ns, read back as the minimum');
    assert.ok(Math.abs(q80! - 0.001) / 0.001 <= 0.0079, String(q80));
    assert.equal(q100, 1e6);
  });

  it('a value that is not finite is not counted, and is reported in gyre_metric_update_errors_total', async () => {
    const before = (await metricUpdateErrors.get()).values.find((v) => v.labels['metric'] === 'nf_seconds')?.value ?? 0;
    const m = new WindowSummary({ name: 'nf_seconds', help: 'h', percentiles: [0.5], maxAgeSeconds: 60, ageBuckets: 2 });
    const s = m.labels();
    s.observe(Number.NaN);
    s.observe(Number.POSITIVE_INFINITY);
    s.observe(0.1);
    assert.equal(s.count, 1);
    assert.equal(s.sum, 0.1);
    const after = (await metricUpdateErrors.get()).values.find((v) => v.labels['metric'] === 'nf_seconds')?.value ?? 0;
    assert.equal(after - before, 2);
  });
});

function got(s: ReturnType<WindowSummary['labels']>, q: number): number {
  return s.quantiles([q])[0]!;
}

/** Within the summary's bound (0.78 %) of `exact`. */
function near(actual: number, exact: number): void {
  assert.ok(Math.abs(actual - exact) / exact <= 0.0079, `${actual} against ${exact}`);
}

describe('WindowSummary window', () => {
  it('60 s in 2 age buckets: an observation counts for 30-60 s, _sum and _count for good', () => {
    const clock = { t: 0 };
    const s = summaryAt(clock).labels('m');
    for (let i = 0; i < 100; i++) s.observe(1);
    clock.t = 29_999;
    near(got(s, 0.5), 1);
    clock.t = 31_000;
    for (let i = 0; i < 100; i++) s.observe(2);
    clock.t = 59_999;
    // 200 in the window: rank 100 is the last 1, rank 101 the first 2.
    near(got(s, 0.5), 1);
    near(got(s, 0.51), 2);
    // At 60 s the slot of 0-30 s is emptied: the 1s observed at 0 s are gone, the 2s of 31 s stay.
    clock.t = 60_000;
    near(got(s, 0.01), 2);
    clock.t = 89_999;
    near(got(s, 0.5), 2);
    clock.t = 90_000;
    assert.ok(Number.isNaN(got(s, 0.5)), 'an empty window reads NaN');
    assert.equal(s.count, 200);
    assert.equal(s.sum, 300);
  });

  it('10 min in 5 age buckets (Centrifugo\'s window): kept 8-10 min, and a long idle gap empties every slot', () => {
    const clock = { t: 1_000_000 }; // not at a slot boundary of 0
    const s = summaryAt(clock, 600, 5).labels('m');
    const slot = 120_000;
    const start = Math.floor(clock.t / slot) * slot;
    s.observe(0.01); // in the slot [start, start + 2 min)
    clock.t = start + 5 * slot - 1;
    assert.equal(got(s, 0.5), 0.01);
    clock.t = start + 5 * slot;
    assert.ok(Number.isNaN(got(s, 0.5)));
    // One observation per minute for 20 minutes: the window then holds the last 8-10 minutes' worth.
    for (let m = 0; m < 20; m++) {
      clock.t = start + 5 * slot + m * 60_000;
      s.observe(m + 1);
    }
    // At minute 19 of that run the window is its 5 slots of minutes 10-19 (observed values 11 to 20).
    near(got(s, 0.001), 11);
    assert.equal(got(s, 1), 20);
    clock.t += 3_600_000;
    assert.ok(Number.isNaN(got(s, 1)), 'an hour later');
    s.observe(0.5);
    assert.equal(got(s, 0.5), 0.5);
    assert.equal(s.count, 22);
  });

  it('reset() zeroes every series and keeps it', async () => {
    const clock = { t: 0 };
    const m = summaryAt(clock);
    m.labels('a').observe(0.2);
    m.labels('b');
    m.reset();
    const json = await m.get();
    assert.equal(json.values.filter((v) => v.metricName === 's_count').length, 2, 'both series listed');
    for (const v of json.values) {
      if (v.metricName === undefined) assert.ok(Number.isNaN(v.value), 'quantiles NaN');
      else assert.equal(v.value, 0, v.metricName);
    }
    m.labels('a').observe(0.3);
    assert.equal(got(m.labels('a'), 0.5), 0.3);
  });
});

describe('WindowSummary exposition and labels', () => {
  it('reads out like prom-client\'s Summary in a prom-client Registry: HELP, TYPE, quantiles, _sum, _count', async () => {
    const registry = new Registry();
    const ours = new WindowSummary({
      name: 'ours_seconds',
      help: 'Ours (quantiles over the last 30-60 s)',
      labelNames: ['method', 'channel_namespace'],
      percentiles: [0.5, 0.99, 0.999],
      maxAgeSeconds: 60,
      ageBuckets: 2,
      registers: [registry],
    });
    const theirs = new Summary({
      name: 'theirs_seconds',
      help: 'Theirs (quantiles over the last 30-60 s)',
      labelNames: ['method', 'channel_namespace'],
      percentiles: [0.5, 0.99, 0.999],
      maxAgeSeconds: 60,
      ageBuckets: 2,
      registers: [registry],
    });
    for (const [method, v] of [['connect', 0.25], ['connect', 0.25], ['subscribe', 0.125]] as const) {
      ours.labels({ method, channel_namespace: '' }).observe(v);
      theirs.labels({ method, channel_namespace: '' }).observe(v);
    }
    const text = await registry.metrics();
    assert.match(text, /^# HELP ours_seconds Ours \(quantiles over the last 30-60 s\)\n# TYPE ours_seconds summary\n/m);
    assert.match(text, /^ours_seconds\{quantile="0\.5",method="connect",channel_namespace=""\} 0\.25$/m);
    assert.match(text, /^ours_seconds_count\{method="subscribe",channel_namespace=""\} 1$/m);
    const s = parseScrape(text);
    const strip = (prefix: string): string[] =>
      s.samples
        .filter((x) => x.name.startsWith(prefix))
        .map((x) => `${x.name.slice(prefix.length)}${JSON.stringify(x.labels)} ${x.value}`)
        .sort();
    assert.deepEqual(strip('ours_'), strip('theirs_'));
    assert.equal(s.types.get('ours_seconds'), 'summary');
    assert.equal(total(s, 'ours_seconds_sum', { method: 'connect' }), 0.5);
  });

  it('passes promtool check metrics', { skip: spawnSync('promtool', ['--version']).status !== 0 ? 'promtool not installed' : false }, async () => {
    const registry = new Registry();
    const m = new WindowSummary({ name: 'gyre_test_duration_seconds', help: 'A "test" summary\\with escapes', labelNames: ['method'], percentiles: [0.5, 0.99], maxAgeSeconds: 600, ageBuckets: 5, registers: [registry] });
    m.labels('connect').observe(0.004);
    m.labels('a"b\\c\nd');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await registry.metrics(), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(r.stdout + r.stderr, '');
  });

  it('labels by position or by name is the same series; wrong labels throw', () => {
    const m = new WindowSummary({ name: 'l', help: 'h', labelNames: ['protocol', 'method'], percentiles: [0.5], maxAgeSeconds: 60, ageBuckets: 2 });
    assert.equal(m.labels('http', 'publish'), m.labels({ method: 'publish', protocol: 'http' }));
    m.observe({ protocol: 'http', method: 'publish' }, 0.01);
    assert.equal(m.labels('http', 'publish').count, 1);
    assert.throws(() => m.labels('http'), /1 label values for 2 labels/);
    assert.throws(() => m.labels({ protocol: 'http', op: 'x' } as never), /unknown label op/);
    assert.throws(() => new WindowSummary({ name: 'q', help: 'h', labelNames: ['quantile'], percentiles: [0.5], maxAgeSeconds: 60, ageBuckets: 2 }), /reserved/);
    assert.throws(() => new WindowSummary({ name: 'q', help: 'h', percentiles: [0.5], maxAgeSeconds: 60, ageBuckets: 0 }), RangeError);
  });
});
