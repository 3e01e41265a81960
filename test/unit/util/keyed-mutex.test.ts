import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { randomLetters } from '../../../src/util/random.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('KeyedMutex', () => {
  it('runs calls with the same key one at a time, in order', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const job = (name: string) => async (): Promise<string> => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([m.run('k', job('a')), m.run('k', job('b')), m.run('k', job('c'))]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.equal(m.size, 0, 'no memory held once idle');
  });

  it('different keys run concurrently', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const job = (name: string) => async (): Promise<void> => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
    };
    await Promise.all([m.run('x', job('x')), m.run('y', job('y'))]);
    assert.deepEqual(log.slice(0, 2), ['start x', 'start y']);
  });

  it('an error goes to its caller only and releases the key', async () => {
    const m = new KeyedMutex();
    const failing = m.run('k', () => Promise.reject(new Error('boom')));
    const next = m.run('k', () => 42);
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 42);
    assert.equal(m.isLocked('k'), false);
  });

  it('isLocked reflects running and waiting calls', async () => {
    const m = new KeyedMutex();
    let release!: () => void;
    const p = m.run('k', () => new Promise<void>((r) => (release = r)));
    assert.equal(m.isLocked('k'), true);
    await tick();
    release();
    await p;
    assert.equal(m.isLocked('k'), false);
  });
});

describe('randomLetters', () => {
  it('returns n ASCII letters', () => {
    for (const n of [0, 1, 8, 100]) assert.match(randomLetters(n), new RegExp(`^[a-zA-Z]{${n}}$`));
    assert.notEqual(randomLetters(16), randomLetters(16));
  });
});
