// Fan-out: one encode per publication and protocol format, delivery to JSON and protobuf subscribers,
// position filtering, no delivery to sessions still subscribing before their reply.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { centrifugal as generated } from '../../../src/protocol/gen/client.js';
import type { centrifugal } from '../../../src/protocol/gen/client-types.js';
import { codecFor } from '../../../src/protocol/index.js';
import { namespace } from './config-fixture.js';
import { Client, makeNode, settle, type TestNode } from './core-harness.js';

const pb = (generated as unknown as typeof centrifugal).centrifuge.protocol;
const enc = new TextEncoder();
const dec = new TextDecoder();

let tn: TestNode | undefined;
afterEach(async () => {
  await tn?.close();
  tn = undefined;
});

/** Splits a frame of varint-delimited messages. */
function splitDelimited(frame: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < frame.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = frame[pos++]!;
      len |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    out.push(frame.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

function pbCommand(cmd: Record<string, unknown>): Uint8Array {
  return codecFor('protobuf').joinFrames([pb.Command.encode(cmd).finish()]);
}

describe('fanout', () => {
  it('encodes once per format and delivers to every JSON and protobuf subscriber', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const codecs = tn.node.ctx.codecs;
    let jsonEncodes = 0;
    let pbEncodes = 0;
    const origJson = codecs.json.encodePublicationPush.bind(codecs.json);
    const origPb = codecs.protobuf.encodePublicationPush.bind(codecs.protobuf);
    codecs.json.encodePublicationPush = (ch, p) => {
      jsonEncodes++;
      return origJson(ch, p);
    };
    codecs.protobuf.encodePublicationPush = (ch, p) => {
      pbEncodes++;
      return origPb(ch, p);
    };
    const jsonClients: Client[] = [];
    for (let i = 0; i < 5; i++) {
      const c = new Client(tn.node);
      await c.connect();
      await c.call({ subscribe: { channel: 'x' } });
      jsonClients.push(c);
    }
    const pbClients: Client[] = [];
    for (let i = 0; i < 3; i++) {
      const c = new Client(tn.node, 'protobuf');
      c.port.handleFrame(pbCommand({ id: 1, connect: {} }));
      c.port.handleFrame(pbCommand({ id: 2, subscribe: { channel: 'x' } }));
      pbClients.push(c);
    }
    await settle(20);
    assert.equal(tn.node.hub.channels.get('x')?.subs.length, 8);
    const pbBefore = pbClients.map((c) => c.t.frames.length);
    await tn.node.publish('x', enc.encode('{"v":1}'), {});
    await settle(10);
    assert.equal(jsonEncodes, 1);
    assert.equal(pbEncodes, 1);
    for (const c of jsonClients) assert.deepEqual(c.unread(), [{ push: { channel: 'x', pub: { data: { v: 1 } } } }]);
    pbClients.forEach((c, i) => {
      const frames = c.t.frames.slice(pbBefore[i]);
      assert.equal(frames.length, 1);
      const [msg] = splitDelimited(frames[0]!);
      const reply = pb.Reply.decode(msg!);
      assert.equal(reply.push?.channel, 'x');
      assert.equal(dec.decode(reply.push?.pub?.data ?? new Uint8Array()), '{"v":1}');
    });
  });

  it('positioned subscribers drop publications at or below their offset', async () => {
    tn = await makeNode({ client: { insecure: true }, namespaces: [namespace('h', { history_size: 10, history_ttl: 60_000, force_positioning: true })] });
    const c = new Client(tn.node);
    await c.connect();
    await c.call({ subscribe: { channel: 'h:1' } });
    await tn.node.publish('h:1', enc.encode('{"n":1}'), {});
    await settle();
    // A late duplicate of offset 1 arriving via PUB/SUB is dropped silently.
    tn.node['fanout'].onPublication('h:1', { data: enc.encode('{"n":1}'), offset: 1 }, { offset: 1, epoch: [...tn.node.hub.sessions.values()][0]!.subs.get('h:1')!.epoch });
    await settle();
    const offsets = c.unread().map((m) => ((m['push'] as Record<string, unknown>)['pub'] as Record<string, unknown>)['offset']);
    assert.deepEqual(offsets, [1]);
  });

  it('after a PUB/SUB interruption positioned subscribers get 2500 (client-side) or 3010 (server-side); others nothing', async () => {
    tn = await makeNode({
      client: { insecure: true },
      namespaces: [namespace('h', { history_size: 10, history_ttl: 60_000, force_recovery: true }), namespace('p', {})],
    });
    const c = new Client(tn.node);
    await c.connect();
    await c.call({ subscribe: { channel: 'h:1' } });
    await c.call({ subscribe: { channel: 'p:1' } });
    const server = new Client(tn.node);
    await server.connect();
    await tn.node.subscribe({ user: [...tn.node.hub.sessions.values()][1]!.user, client: [...tn.node.hub.sessions.values()][1]!.id, channel: 'h:2' });
    await settle();
    c.unread();
    tn.node['fanout'].onSubscriptionLost(['h:1', 'p:1', 'h:2', 'unknown']);
    await settle();
    const pushes = c.unread().map((m) => m['push'] as Record<string, unknown>);
    const unsubs = pushes.filter((p) => p['unsubscribe'] !== undefined);
    assert.deepEqual(unsubs.map((p) => [p['channel'], (p['unsubscribe'] as Record<string, unknown>)['code']]), [['h:1', 2500]]);
    assert.equal(await server.waitClosed(), 3010);
  });
});
