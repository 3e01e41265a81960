// The control plane across several Node instances in one process over an in-process bus: node registry (join,
// goodbye, silence), API disconnect/unsubscribe/subscribe/refresh reaching users on other nodes, `channels`
// merged by a survey, `info` listing every node, commands applied once on the sending node.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import pino from 'pino';
import { Node } from '../../../src/core/node.js';
import { decodeControl, encodeControl } from '../../../src/core/control/codec.js';
import { createMemoryEngine } from '../../../src/engines/memory/index.js';
import { makeConfig, namespace, type ConfigOverrides } from './config-fixture.js';
import { InProcessBus } from './control-bus.js';
import { Client, FakeVerifier, tok, waitFor, type Json } from './core-harness.js';

interface Cluster {
  bus: InProcessBus;
  nodes: Node[];
  clock: { t: number };
}

let running: Node[] = [];
afterEach(async () => {
  await Promise.allSettled(running.map((n) => n.shutdown()));
  running = [];
});

async function makeCluster(size: number, o: ConfigOverrides = {}, surveyTimeoutMs = 10_000): Promise<Cluster> {
  const bus = new InProcessBus();
  const clock = { t: 1_000_000 };
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    const config = makeConfig(o);
    config.node = { ...config.node, name: `n${i}` };
    const engine = { ...createMemoryEngine(), controller: bus.controller() };
    const node = new Node({
      config,
      engine,
      tokenVerifier: new FakeVerifier(),
      logger: pino({ level: 'silent' }),
      version: '0.0.0 Gyre',
      // Timers off: the tests drive heartbeats and clean-ups with a fake clock.
      control: { heartbeatMs: 0, cleanIntervalMs: 0, surveyTimeoutMs, now: () => clock.t },
    });
    await node.start();
    nodes.push(node);
    running.push(node);
  }
  await waitFor(() => nodes.every((n) => n.cluster.registry.size === size));
  return { bus, nodes, clock };
}

async function connected(node: Node, user: string): Promise<{ c: Client; id: string }> {
  const c = new Client(node);
  const res = await c.connect({ token: tok({ sub: user }) });
  return { c, id: res['client'] as string };
}

/** Kinds of the messages `from` put on the bus, in order. */
function sentKinds(bus: InProcessBus, from: string): string[] {
  const out: string[] = [];
  for (const m of bus.sent) {
    if (m.from !== from) continue;
    const d = decodeControl(m.data);
    out.push(d.ok ? d.cmd.body.kind : 'undecodable');
  }
  return out;
}

function pushesOf(c: Client, kind: string): Json[] {
  return c.unread().filter((m) => (m['push'] as Json | undefined)?.[kind] !== undefined);
}

describe('control plane over several nodes', () => {
  it('every node learns every other at start; info lists all with their counts', async () => {
    const { nodes } = await makeCluster(3);
    await connected(nodes[1]!, 'bob');
    await connected(nodes[1]!, 'bob');
    await connected(nodes[2]!, 'carol');
    await Promise.all(nodes.map((n) => n.cluster.heartbeat()));
    await waitFor(() => nodes[0]!.cluster.nodes().find((n) => n.name === 'n1')?.numClients === 2);
    const info = await nodes[0]!.info();
    assert.deepEqual(info.map((n) => n.name).sort(), ['n0', 'n1', 'n2']);
    const byName = new Map(info.map((n) => [n.name, n]));
    assert.deepEqual([byName.get('n1')!.num_clients, byName.get('n1')!.num_users], [2, 1]);
    assert.equal(byName.get('n2')!.num_clients, 1);
    assert.equal(byName.get('n0')!.num_clients, 0);
    assert.equal(new Set(info.map((n) => n.uid)).size, 3);
  });

  it('a node that shuts down leaves at once; a silent one after the max delay', async () => {
    const { nodes, bus, clock } = await makeCluster(3);
    const [a, b, c] = nodes as [Node, Node, Node];
    await c.shutdown();
    await waitFor(() => a.cluster.registry.size === 2 && b.cluster.registry.size === 2);
    assert.equal(a.cluster.registry.has(c.uid), false);

    bus.kill(b.uid); // crash: no goodbye
    clock.t += 6000;
    a.cluster.sweep();
    assert.equal(a.cluster.registry.has(b.uid), true, 'silent for 6 s: still live');
    clock.t += 1500;
    a.cluster.sweep();
    assert.equal(a.cluster.registry.has(b.uid), false, 'silent for 7.5 s: gone');
    assert.deepEqual((await a.info()).map((n) => n.uid), [a.uid]);
  });

  it('heartbeats keep a node live however long it runs', async () => {
    const { nodes, clock } = await makeCluster(2);
    const [a, b] = nodes as [Node, Node];
    for (let i = 0; i < 5; i++) {
      clock.t += 3000;
      await b.cluster.heartbeat();
      await waitFor(() => a.cluster.registry.size === 2);
      a.cluster.sweep();
    }
    assert.equal(a.cluster.registry.has(b.uid), true);
  });

  it('API disconnect on one node closes the user on every node, except whitelisted clients', async () => {
    const { nodes } = await makeCluster(3);
    const onA = await connected(nodes[0]!, 'u');
    const onB = await connected(nodes[1]!, 'u');
    const keep = await connected(nodes[2]!, 'u');
    const other = await connected(nodes[2]!, 'v');
    await nodes[0]!.disconnect({ user: 'u', whitelist: [keep.id], code: 4000, reason: 'bye' });
    assert.equal(await onA.c.waitClosed(), 4000);
    assert.equal(await onB.c.waitClosed(), 4000);
    assert.equal(onB.c.t.closeReason, 'bye');
    // A later command on the same path proves the whitelisted and the other user's commands were seen and skipped.
    await nodes[0]!.disconnect({ user: 'u', client: keep.id });
    assert.equal(await keep.c.waitClosed(), 3503);
    assert.equal(other.c.t.closed, false);
  });

  it('API unsubscribe and subscribe reach subscriptions on other nodes', async () => {
    const { nodes } = await makeCluster(2, { client: { insecure: true }, namespaces: [namespace('ns', {})] });
    const [a, b] = nodes as [Node, Node];
    const onB = await connected(b, 'u');
    await a.subscribe({ user: 'u', channel: 'ns:room', data: new TextEncoder().encode('{"hello":1}') });
    const [sp] = await onB.c.next(1);
    assert.deepEqual(sp, { push: { channel: 'ns:room', subscribe: { data: { hello: 1 } } } });
    await waitFor(() => b.stats().subscriptions === 1);
    // The subscription is live on B: a publication there reaches the client.
    await b.publish('ns:room', new TextEncoder().encode('{"n":1}'), {});
    assert.deepEqual((await onB.c.next(1))[0], { push: { channel: 'ns:room', pub: { data: { n: 1 } } } });

    await a.unsubscribe({ user: 'u', channel: 'ns:room' });
    const [up] = await onB.c.next(1);
    assert.deepEqual(up, { push: { channel: 'ns:room', unsubscribe: { code: 2000, reason: 'server unsubscribe' } } });
    assert.equal(b.stats().subscriptions, 0);
  });

  it('API refresh reaches other nodes; expired closes with 3005', async () => {
    const { nodes } = await makeCluster(2);
    const [a, b] = nodes as [Node, Node];
    const onB = await connected(b, 'u');
    await a.refresh({ user: 'u', expireAt: Math.floor(Date.now() / 1000) + 100 });
    const [push] = await onB.c.next(1);
    const rp = (push!['push'] as Json)['refresh'] as Json;
    assert.equal(rp['expires'], true);
    await a.refresh({ user: 'u', expired: true });
    assert.equal(await onB.c.waitClosed(), 3005);
  });

  it('commands are applied once on the sending node although the bus hands them back', async () => {
    const { nodes, bus } = await makeCluster(2);
    const [a] = nodes as [Node, Node];
    const onA = await connected(a, 'u');
    const before = bus.sent.length;
    await a.refresh({ user: 'u', expireAt: Math.floor(Date.now() / 1000) + 100 });
    await a.refresh({ user: 'u', expireAt: Math.floor(Date.now() / 1000) + 200 });
    await waitFor(() => pushesOf(onA.c, 'refresh').length >= 2);
    // Let the bus deliver both commands back to A (and to B), then count again.
    await a.cluster.heartbeat();
    await waitFor(() => nodes[1]!.cluster.nodes().length === 2);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(bus.sent.length - before, 3, 'two refresh commands and one heartbeat on the bus');
    assert.equal(pushesOf(onA.c, 'refresh').length, 2);
  });

  it('channels merges every node through a survey, with the pattern applied on each', async () => {
    const { nodes } = await makeCluster(3, { client: { insecure: true } });
    const subscribe = async (node: Node, ch: string) => {
      const { c } = await connected(node, 'u');
      await c.call({ subscribe: { channel: ch } });
    };
    await subscribe(nodes[0]!, 'room1');
    await subscribe(nodes[1]!, 'room1');
    await subscribe(nodes[1]!, 'room1');
    await subscribe(nodes[2]!, 'room2');
    await subscribe(nodes[2]!, 'other');
    assert.deepEqual(await nodes[0]!.channels(), { room1: { num_clients: 3 }, room2: { num_clients: 1 }, other: { num_clients: 1 } });
    assert.deepEqual(await nodes[2]!.channels('room?'), { room1: { num_clients: 3 }, room2: { num_clients: 1 } });
  });

  it('a channels survey does not wait for a node that died: it completes once the node is dropped', async () => {
    const { nodes, bus, clock } = await makeCluster(3, { client: { insecure: true } });
    const [a, b, c] = nodes as [Node, Node, Node];
    const { c: client } = await connected(b, 'u');
    await client.call({ subscribe: { channel: 'room' } });
    bus.kill(c.uid);
    let result: Record<string, { num_clients: number }> | undefined;
    const pending = a.channels().then((r) => (result = r));
    await waitFor(() => sentKinds(bus, b.uid).includes('survey_response'));
    await new Promise((r) => setTimeout(r, 10)); // B's answer reaches A
    assert.equal(result, undefined, 'still waiting for the dead node');
    clock.t += 8000;
    const beats = sentKinds(bus, b.uid).filter((k) => k === 'node').length;
    await b.cluster.heartbeat();
    await waitFor(() => sentKinds(bus, b.uid).filter((k) => k === 'node').length === beats + 1);
    await new Promise((r) => setTimeout(r, 10)); // B's heartbeat reaches A
    a.cluster.sweep();
    await pending;
    assert.deepEqual(result, { room: { num_clients: 1 } });
  });

  it('a survey left unanswered until its timeout is an internal error', async () => {
    const { nodes, bus } = await makeCluster(2, {}, 50);
    bus.kill(nodes[1]!.uid);
    await assert.rejects(nodes[0]!.channels(), (err: unknown) => (err as { code?: number }).code === 100);
  });

  it('undecodable bytes and unknown bodies on the bus are ignored', async () => {
    const { nodes, bus } = await makeCluster(2);
    bus.inject(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    bus.inject(encodeControl({ uid: 'someone', body: { kind: 'notification', op: 'x', data: new Uint8Array(0) } }));
    bus.inject(new Uint8Array([0x0a, 0x01, 0x7a, 0xa2, 0x06, 0x00])); // uid "z" + field 100 (unknown)
    const onB = await connected(nodes[1]!, 'u');
    await nodes[0]!.disconnect({ user: 'u' });
    assert.equal(await onB.c.waitClosed(), 3503);
  });
});
