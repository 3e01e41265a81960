// Runs the engine contracts against the primary engine (what the memory engine is in worker processes): each
// "worker" side talks to one PrimaryEngineHost through an in-process channel pair that copies every message
// with v8 serialisation, asynchronously, as Node's IPC with `serialization: 'advanced'` does. The real
// processes are covered by test/cluster/workers.test.ts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { connectPrimary, createPrimaryEngine, PrimaryEngineHost, type IpcPort, type PrimaryEngine } from '../../src/engines/primary/index.js';
import type { MemoryEngineOptions } from '../../src/engines/memory/index.js';
import { runBrokerContract } from './broker.contract.js';
import { runControllerContract } from './controller.contract.js';
import { runHistoryContract } from './history.contract.js';
import { runPresenceContract } from './presence.contract.js';
import { waitFor } from './contract-util.js';

/** An end that can also play its channel closing (a worker process gone). */
type TestPort = IpcPort & { emitDisconnect(): void };

/** Two connected ends; a message sent on one arrives, copied, on the other on a later turn. */
function portPair(): [TestPort, TestPort] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const end = (self: EventEmitter, peer: EventEmitter): TestPort => ({
    send: (m) => {
      const bytes = serialize(m);
      setImmediate(() => {
        peer.emit('message', deserialize(bytes));
      });
    },
    onMessage: (fn) => {
      self.on('message', fn);
      return () => self.off('message', fn);
    },
    onDisconnect: (fn) => {
      self.on('disconnect', fn);
      return () => self.off('disconnect', fn);
    },
    connected: true,
    emitDisconnect: () => self.emit('disconnect'),
  });
  return [end(a, b), end(b, a)];
}

function cluster(workers: number, opts: MemoryEngineOptions = {}): { engines: PrimaryEngine[]; close(): Promise<void> } {
  const host = new PrimaryEngineHost(opts);
  const engines: PrimaryEngine[] = [];
  for (let i = 0; i < workers; i++) {
    const [workerEnd, primaryEnd] = portPair();
    host.attach(i + 1, primaryEnd);
    engines.push(createPrimaryEngine(connectPrimary(workerEnd)));
  }
  return {
    engines,
    close: async () => {
      await Promise.all(engines.map((e) => e.close()));
      await host.close();
    },
  };
}

runBrokerContract('primary', () => {
  const c = cluster(1);
  const e = c.engines[0]!;
  return Promise.resolve({ broker: e.broker, history: e.history, close: () => c.close() });
});

runHistoryContract('primary', () => {
  const c = cluster(1, { sweepIntervalMs: 50 });
  return Promise.resolve({ history: c.engines[0]!.history, close: () => c.close() });
});

runPresenceContract('primary', ({ presenceTtlMs }) => {
  const c = cluster(1, { presenceTtlMs, presenceSweepIntervalMs: 50 });
  return Promise.resolve({ presence: c.engines[0]!.presence, close: () => c.close() });
});

runControllerContract(
  'primary (3 workers)',
  (nodes) => {
    const c = cluster(nodes);
    return Promise.resolve({ controllers: c.engines.map((e) => e.controller), close: () => c.close() });
  },
  3,
);

describe('primary engine host across workers', () => {
  const NO_HISTORY = { historySize: 0, historyTtlMs: 0, historyMetaTtlMs: 0 };
  const WITH_HISTORY = { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 60_000 };

  it('fans a publication out to every subscribed worker, one offset authority, bytes unchanged', async () => {
    const c = cluster(3);
    const got: Array<Array<[string, number | undefined]>> = [[], [], []];
    for (const [i, e] of c.engines.entries()) {
      await e.broker.start({
        onPublication: (_ch, pub, pos) => got[i]!.push([Buffer.from(pub.data).toString(), pos?.offset]),
        onJoin: () => undefined,
        onLeave: () => undefined,
      });
    }
    await c.engines[0]!.broker.subscribe(['ch']);
    await c.engines[1]!.broker.subscribe(['ch']);
    const r1 = await c.engines[2]!.broker.publish('ch', Buffer.from('{"a":1}'), WITH_HISTORY);
    const r2 = await c.engines[0]!.broker.publish('ch', Buffer.from('{"a":2}'), WITH_HISTORY);
    await c.engines[1]!.broker.publish('ch', Buffer.from('x'), NO_HISTORY);
    assert.deepEqual([r1.position?.offset, r2.position?.offset], [1, 2]);
    await waitFor(() => got[0]!.length === 3 && got[1]!.length === 3);
    const want: Array<[string, number | undefined]> = [['{"a":1}', 1], ['{"a":2}', 2], ['x', undefined]];
    assert.deepEqual(got[0], want);
    assert.deepEqual(got[1], want);
    assert.deepEqual(got[2], [], 'a worker that did not subscribe gets nothing');
    await c.close();
  });

  it('detach after the IPC channel closed still returns the node id, once (the primary announces a crash)', async () => {
    const host = new PrimaryEngineHost();
    const [w1, p1] = portPair();
    host.attach(1, p1);
    const a = createPrimaryEngine(connectPrimary(w1));
    await a.controller.start('node-a', () => undefined);
    await a.presence.add('room', 'c1', { user: 'u1', client: 'c1' });
    // A crashed worker: its channel closes first ('disconnect'), the primary's 'exit' handler detaches it later.
    p1.emitDisconnect();
    assert.equal(host.detach(1), 'node-a');
    assert.equal(host.detach(1), '');
    await a.close();
    await host.close();
  });

  it('forgets a detached worker: its subscriptions stop and its presence entries go', async () => {
    const host = new PrimaryEngineHost();
    const [w1, p1] = portPair();
    const [w2, p2] = portPair();
    host.attach(1, p1);
    host.attach(2, p2);
    const a = createPrimaryEngine(connectPrimary(w1));
    const b = createPrimaryEngine(connectPrimary(w2));
    await a.presence.add('room', 'c1', { user: 'u1', client: 'c1' });
    await b.presence.add('room', 'c2', { user: 'u2', client: 'c2' });
    assert.deepEqual(await b.presence.stats('room'), { numClients: 2, numUsers: 2 });
    host.detach(1);
    assert.deepEqual([...(await b.presence.get('room')).keys()], ['c2']);
    await Promise.all([a.close(), b.close()]);
    await host.close();
  });
});
