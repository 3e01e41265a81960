import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryPresenceManager } from '../../../../src/engines/memory/presence.js';

function setup(ttl = 1000): { p: MemoryPresenceManager; clock: { t: number } } {
  const clock = { t: 0 };
  return { p: new MemoryPresenceManager({ presenceTtlMs: ttl, now: () => clock.t }), clock };
}

describe('MemoryPresenceManager', () => {
  it('entries live exactly ttl after the last add', async () => {
    const { p, clock } = setup();
    await p.add('ch', 'c1', { user: 'u1', client: 'c1' });
    clock.t = 500;
    await p.add('ch', 'c1', { user: 'u1', client: 'c1' });
    await p.add('ch', 'c2', { user: 'u2', client: 'c2' });
    clock.t = 1499;
    assert.deepEqual(await p.stats('ch'), { numClients: 2, numUsers: 2 });
    clock.t = 1500;
    assert.deepEqual(await p.stats('ch'), { numClients: 0, numUsers: 0 });
    await p.close();
  });

  it('default ttl is 60 s', async () => {
    const clock = { t: 0 };
    const p = new MemoryPresenceManager({ now: () => clock.t });
    await p.add('ch', 'c1', { user: 'u1', client: 'c1' });
    clock.t = 59_999;
    assert.equal((await p.get('ch')).size, 1);
    clock.t = 60_000;
    assert.equal((await p.get('ch')).size, 0);
    await p.close();
  });

  it('sweep frees channels whose entries all expired', async () => {
    const { p, clock } = setup();
    await p.add('a', 'c1', { user: 'u1', client: 'c1' });
    await p.add('b', 'c1', { user: 'u1', client: 'c1' });
    clock.t = 600;
    await p.add('b', 'c2', { user: 'u1', client: 'c2' });
    clock.t = 1200;
    p.sweep();
    assert.equal(p.channelCount, 1);
    assert.deepEqual([...(await p.get('b')).keys()], ['c2']);
    await p.close();
  });

  it('get returns a copy', async () => {
    const { p } = setup();
    await p.add('a', 'c1', { user: 'u1', client: 'c1' });
    const m = await p.get('a');
    m.delete('c1');
    assert.equal((await p.get('a')).size, 1);
    await p.close();
  });

  it('remove of the last client frees the channel', async () => {
    const { p } = setup();
    await p.add('a', 'c1', { user: 'u1', client: 'c1' });
    await p.remove('a', 'c1', 'u1');
    assert.equal(p.channelCount, 0);
    await p.close();
  });
});
