import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StartGate } from '../../../src/cluster/start-gate.js';

describe('StartGate (the workers open the main port together)', () => {
  it('holds the answers until every slot asked, then answers all in order, and later ones at once', () => {
    const gate = new StartGate(3, 60_000);
    const got: string[] = [];
    gate.request(1, () => got.push('a'));
    gate.request(1, () => got.push('a again')); // the same slot twice does not count as another worker
    gate.request(2, () => got.push('b'));
    assert.equal(got.length, 0);
    assert.equal(gate.isOpen, false);
    gate.request(3, () => got.push('c'));
    assert.deepEqual(got, ['a', 'a again', 'b', 'c']);
    gate.request(2, () => got.push('restarted b'));
    assert.deepEqual(got.at(-1), 'restarted b');
  });

  it('opens after maxWaitMs from the first ask when a slot never asks', async () => {
    const gate = new StartGate(2, 30);
    let answered = false;
    gate.request(1, () => (answered = true));
    assert.equal(answered, false);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(answered, true);
    assert.equal(gate.isOpen, true);
  });

  it('release() answers what is held (a worker exited, or shutdown)', () => {
    const gate = new StartGate(2, 60_000);
    let answered = 0;
    gate.request(1, () => answered++);
    gate.release();
    gate.release();
    assert.equal(answered, 1);
  });
});
