// `node.worker_node_args` reaches the worker processes (src/cluster/worker-args.ts, docs/workers.md): each worker's
// command line carries the configured flags after the primary's own, a flag the operator set in NODE_OPTIONS is
// left to the operator, V8 applies the flags (the worker's young generation is as large as asked), the primary's
// own command line is unchanged, and a flag node refuses stops the start with node's reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { baseConfig } from '../compat/base-config.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { waitFor } from '../harness/wait.js';

/** Worker pids from the primary's "worker serving" lines. */
function workerPids(g: GyreProcess): number[] {
  return g
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"worker serving"'))
    .map((l) => (JSON.parse(l) as { workerPid: number }).workerPid);
}

const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');

describe('node.worker_node_args', { timeout: 120_000 }, () => {
  let g: GyreProcess;

  before(async () => {
    const node = { worker_node_args: ['--stack-trace-limit=23', '--min-semi-space-size=64', '--max-semi-space-size=64'] };
    g = await startGyre(mergeConfig(baseConfig(), { log: { level: 'info' }, prometheus: { enabled: true }, node }), {
      args: ['--workers', '2'],
      env: { NODE_OPTIONS: '--stack-trace-limit=7' },
    });
    await waitFor(() => workerPids(g).length === 2, { what: 'both workers serving', timeoutMs: 60_000 });
  });

  after(async () => {
    await g.stop('SIGTERM');
  });

  it("puts the configured flags after the primary's own on each worker's command line, except the operator's", () => {
    const primary = cmdline(g.pid);
    for (const pid of workerPids(g)) {
      const argv = cmdline(pid);
      const script = argv.findIndex((a) => a.endsWith('main.ts') || a.endsWith('main.js'));
      const flags = argv.slice(1, script);
      assert.deepEqual(flags.slice(0, 2), ['--import', 'tsx'], 'the primary\'s own node flags first');
      assert.ok(flags.includes('--min-semi-space-size=64') && flags.includes('--max-semi-space-size=64'), flags.join(' '));
      assert.ok(!flags.some((a) => a.startsWith('--stack-trace-limit')), 'NODE_OPTIONS set it: the operator\'s value stays');
    }
    assert.ok(!primary.includes('--min-semi-space-size=64'), 'the primary runs without them');
  });

  it('reaches V8 in the workers: their young generation starts at the asked size', async () => {
    // The heap statistics /metrics reports, summed over the primary and the workers: each worker's new space is at
    // least its 64 MB minimum. Without the flag V8 reports at most 32 MB per process here (3 stay under 128 MB).
    // A worker that does not answer the primary's collect within 3 s is left out of that scrape: ask again then.
    let last = 0;
    const newSpace = async (): Promise<number | false> => {
      const text = await (await fetch(`${g.baseUrl}/metrics`)).text();
      const m = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(text);
      last = m === null ? -1 : Number(m[1]);
      return last >= 2 * 64 * 1024 * 1024 && last;
    };
    await waitFor(newSpace, { what: 'new space of both workers at their 64 MB minimum', timeoutMs: 15_000, intervalMs: 500 }).catch(() => undefined);
    assert.ok(last >= 2 * 64 * 1024 * 1024, `new space ${last} bytes in all (-1: no gauge)`);
  });
});

describe('node.worker_node_args that node refuses', { timeout: 60_000 }, () => {
  it('stops the start with exit code 1 and node\'s reason, before any worker starts', async () => {
    const g = await startGyre(mergeConfig(baseConfig(), { node: { worker_node_args: ['--no-such-v8-flag-gyre'] } }), {
      args: ['--workers', '2'],
    }).catch((e: unknown) => e);
    assert.ok(!(g instanceof Object && 'pid' in g), 'the server must not start');
    assert.match(String(g), /node\.worker_node_args: node refuses .*no-such-v8-flag-gyre/);
  });
});
