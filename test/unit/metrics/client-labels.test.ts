import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricClientName, metricClientVersion } from '../../../src/metrics/client-labels.js';

describe('client label values (bounded, as Centrifugo 6.9.1)', () => {
  it('maps what a client sends to unnamed / unversioned / unregistered, never to its own text', () => {
    assert.equal(metricClientName(''), 'unnamed');
    assert.equal(metricClientVersion(''), 'unversioned');
    const names = new Set(Array.from({ length: 1000 }, (_, i) => metricClientName(`app-${i}`)));
    const versions = new Set(Array.from({ length: 1000 }, (_, i) => metricClientVersion(`1.${i}`)));
    assert.deepEqual([...names], ['unregistered']);
    assert.deepEqual([...versions], ['unregistered']);
  });
});
