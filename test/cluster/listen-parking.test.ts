// Accepting first (src/cluster/listen-copies.ts): connections accepted while the queue has a backlog wait
// without reading and start a few per event-loop turn. None may be lost or kept waiting for good: 300 clients
// queued at once, each sends a request line as soon as it connects, and each must get its answer.
import assert from 'node:assert/strict';
import net, { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ListenCopies } from '../../src/cluster/listen-copies.js';
import { waitFor } from '../harness/wait.js';

type CreateHandle = (address: string, port: number, addressType: number) => object | number;

describe('ListenCopies accepting first', () => {
  it('starts every parked connection', async () => {
    const create = (net as unknown as { _createServerHandle: CreateHandle })._createServerHandle;
    const handle = create('127.0.0.1', 0, 4);
    assert.equal(typeof handle, 'object');
    const order: number[] = [];
    const server = createServer((s: Socket) => {
      s.once('data', (d: Buffer) => {
        order.push(Number(d.toString('latin1')));
        s.end('ok');
      });
    });
    const copies = new ListenCopies(server, 511, () => Promise.resolve([handle as object]));
    const port = await copies.open();
    assert.equal(copies.count, 1);
    const answers: string[] = [];
    const clients = Array.from({ length: 300 }, (_, i) => {
      const c = connect(port, '127.0.0.1');
      c.on('connect', () => c.write(String(i)));
      c.setEncoding('utf8').on('data', (d: string) => answers.push(d));
      c.on('error', () => undefined);
      return c;
    });
    try {
      await waitFor(() => answers.length === 300, { what: 'every client answered', timeoutMs: 20_000 });
      assert.deepEqual(answers, answers.map(() => 'ok'));
      assert.equal(new Set(order).size, 300);
    } finally {
      for (const c of clients) c.destroy();
      copies.close();
      await copies.closeAll();
    }
  });
});
