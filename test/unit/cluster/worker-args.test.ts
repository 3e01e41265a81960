// The workers' node/V8 flags (`node.worker_node_args`, src/cluster/worker-args.ts): the primary's own flags come
// first, a flag the operator set himself is not added again, the key is validated as flags, and node's own
// refusal of a flag is caught once before any fork.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkWorkerArgs, flagName, workerExecArgv } from '../../../src/cluster/worker-args.js';
import { loadConfig } from '../../../src/config/index.js';

describe('worker node args', () => {
  it('names a flag whatever its spelling', () => {
    assert.equal(flagName('--max-semi-space-size=32'), 'max-semi-space-size');
    assert.equal(flagName('--max_semi_space_size=32'), 'max-semi-space-size');
    assert.equal(flagName('--no-max-semi-space-size'), 'max-semi-space-size');
    assert.equal(flagName('--maglev'), 'maglev');
  });

  it("appends the configured flags to the primary's, minus those the operator set on its command line or in NODE_OPTIONS", () => {
    const configured = ['--max-semi-space-size=32', '--stack-trace-limit=20', '--maglev'];
    assert.deepEqual(workerExecArgv(configured, ['--import', 'tsx'], undefined), ['--import', 'tsx', ...configured]);
    assert.deepEqual(workerExecArgv(configured, ['--max_semi_space_size=8'], ''), ['--max_semi_space_size=8', '--stack-trace-limit=20', '--maglev']);
    assert.deepEqual(workerExecArgv(configured, [], '--no-maglev  --stack-trace-limit=5'), ['--max-semi-space-size=32']);
    assert.deepEqual(workerExecArgv([], ['--inspect=0'], undefined), ['--inspect=0']);
  });

  it('is a list of flags in the config, space-separated from env and flags', () => {
    const list = loadConfig({ env: {}, flags: { 'node.worker_node_args': ['--max-semi-space-size=16'] } }).config;
    assert.deepEqual(list.node.worker_node_args, ['--max-semi-space-size=16']);
    const fromEnv = loadConfig({ env: { GYRE_NODE_WORKER_NODE_ARGS: '--max-semi-space-size=16  --maglev' } }).config;
    assert.deepEqual(fromEnv.node.worker_node_args, ['--max-semi-space-size=16', '--maglev']);
    const fromFlag = loadConfig({ env: {}, flags: { 'node.worker_node_args': '--stack-trace-limit=20 --maglev' } }).config;
    assert.deepEqual(fromFlag.node.worker_node_args, ['--stack-trace-limit=20', '--maglev']);
    for (const bad of [['max-semi-space-size=16'], ['--a --b'], [''], ['--']]) {
      assert.throws(() => loadConfig({ env: {}, flags: { 'node.worker_node_args': bad } }), /node\.worker_node_args/, String(bad));
    }
  });

  it("catches a flag this node refuses before any fork, with node's reason", () => {
    assert.equal(checkWorkerArgs([]), undefined);
    assert.equal(checkWorkerArgs(['--max-semi-space-size=16', '--stack-trace-limit=20']), undefined);
    const refused = checkWorkerArgs(['--max-semi-space-size=16', '--no-such-v8-flag-gyre']);
    assert.match(refused ?? '', /^node\.worker_node_args: node refuses .*--no-such-v8-flag-gyre/);
  });
});
