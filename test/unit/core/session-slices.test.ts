// Fair work in the session: commands run in slices, a client that does not take its replies is paused (not
// cut off with 3008), inbound frames pause reading, and every reply still arrives, in order.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Client, makeNode, settle, waitFor, type TestNode } from './core-harness.js';

let tn: TestNode | undefined;
afterEach(async () => {
  await tn?.close();
  tn = undefined;
});

function rpcLines(firstId: number, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`{"id":${firstId + i},"rpc":{"method":"ping"}}`);
  return lines.join('\n');
}

const ids = (c: Client): unknown[] => c.t.messages().map((m) => m['id']);

describe('session slices', () => {
  it('a large frame is answered over several frames, in order, with every reply', async () => {
    tn = await makeNode({ client: { insecure: true }, rpcPing: { enabled: true, method: 'ping' } });
    const c = new Client(tn.node);
    await c.connect();
    const n = 5000;
    const before = c.t.messages().length;
    c.sendRaw(rpcLines(2, n));
    // The next loop turn comes while the frame is being answered: some replies are out, not all.
    const atNextTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(c.t.messages().length - before)));
    assert.ok(atNextTurn > 0 && atNextTurn < n, `${atNextTurn} replies at the next turn`);
    await c.next(n, 10_000);
    assert.deepEqual(ids(c), Array.from({ length: n + 1 }, (_, i) => i + 1));
    assert.equal(c.t.closed, false);
  });

  it('a client that does not drain its replies is paused, not closed; it gets the rest once it reads', async () => {
    tn = await makeNode({ client: { insecure: true, queue_max_size: 1_048_576 }, rpcPing: { enabled: true, method: 'ping' } });
    const c = new Client(tn.node);
    await c.connect();
    const first = c.t.messages().length;
    // The socket holds 400 KB it has not written yet: over a quarter of the queue cap, under the cap.
    c.t.bufferedBytes = 400_000;
    const n = 3000;
    c.sendRaw(rpcLines(2, n));
    // Frames keep arriving while the session waits: reading pauses.
    for (let f = 0; f < 40; f++) c.sendRaw(rpcLines(2 + n + f, 1));
    await waitFor(() => c.t.messages().length > first);
    await settle(50);
    const answered = c.t.messages().length - first;
    assert.ok(answered > 0 && answered < n, `${answered} replies before the drain`);
    assert.equal(c.t.closed, false, 'not cut off for its own replies');
    assert.equal(c.t.paused, true, 'reading paused');
    c.t.drain();
    await waitFor(() => c.t.messages().length === first + n + 40, 10_000);
    assert.deepEqual(ids(c), Array.from({ length: n + 41 }, (_, i) => i + 1));
    assert.equal(c.t.paused, false, 'reading resumed');
    assert.equal(c.t.closed, false);
  });

  it('publications to a client whose socket does not drain still end in 3008', async () => {
    tn = await makeNode({ client: { insecure: true, queue_max_size: 1000 }, withoutNamespace: { allow_subscribe_for_client: true } });
    const c = new Client(tn.node);
    await c.connect();
    await c.call({ subscribe: { channel: 'flood' } });
    c.t.bufferedBytes = 10_000;
    await tn.node.publish('flood', new TextEncoder().encode('{"a":1}'), {});
    assert.equal(await c.waitClosed(), 3008);
  });

  it('a malformed line in the middle of a large frame: earlier commands answered, then 3501', async () => {
    tn = await makeNode({ client: { insecure: true }, rpcPing: { enabled: true, method: 'ping' } });
    const c = new Client(tn.node);
    await c.connect();
    c.sendRaw(`${rpcLines(2, 1000)}\n{bad\n${rpcLines(1002, 10)}`);
    assert.equal(await c.waitClosed(5000), 3501);
    assert.deepEqual(ids(c), Array.from({ length: 1001 }, (_, i) => i + 1));
  });
});
