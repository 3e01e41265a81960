// The node's name in info (src/core/node-name.ts) and the worker slot a worker reads from its environment.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { nodeName } from '../../../src/core/node-name.js';
import { slotOf } from '../../../src/cluster/worker.js';

describe('node names', () => {
  it('is Centrifugo\'s hostname_port by default, node.name when set', () => {
    assert.equal(nodeName('', 8000), `${hostname()}_8000`);
    assert.equal(nodeName('edge-a', 8000), 'edge-a');
  });

  it('adds the worker slot in a worker process, so the workers of one server have distinct names', () => {
    assert.equal(nodeName('', 8000, 1), `${hostname()}_8000-w1`);
    assert.equal(nodeName('', 8000, 2), `${hostname()}_8000-w2`);
    assert.equal(nodeName('edge-a', 8000, 3), 'edge-a-w3');
  });

  it('reads the slot the primary set, else falls back to the fork number', () => {
    assert.equal(slotOf('2', 7), 2);
    assert.equal(slotOf(undefined, 7), 7);
    assert.equal(slotOf('', 7), 7);
    assert.equal(slotOf('0', 7), 7);
    assert.equal(slotOf('1.5', 7), 7);
  });
});
