// Accepting first (src/cluster/listen-copies.ts): connections accepted while the queue has a backlog wait
// without reading and start a few per event-loop turn. None may be lost or kept waiting for good: 300 clients
// queued at once, each sends a request line as soon as it connects, and each must get its answer.
import assert from 'node:assert/strict';
import net, { connect, createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListenCopies } from '../../src/cluster/listen-copies.js';
import { HttpFront } from '../../src/http/front.js';
import { createHttpServer } from '../../src/http/server.js';
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

describe('a parked connection and the head timeout', () => {
  it('is still served once it starts reading, however long it was parked', async () => {
    // The front's head timer runs from the accept; a parked socket must not get 408 (or be closed) for the
    // node's wait. Parked as ListenCopies parks: pauseOnConnect, resumed later.
    const http = createHttpServer((_req, res) => res.end('served'));
    // 500 ms: the window from resume() to the head being read must hold on a loaded machine (50 ms did not).
    const front = new HttpFront({ http, headersTimeoutMs: 500 });
    (front.server as NetServer & { pauseOnConnect: boolean }).pauseOnConnect = true;
    const parked: Socket[] = [];
    front.server.on('connection', (s: Socket) => parked.push(s));
    const port = await new Promise<number>((r) => front.server.listen(0, '127.0.0.1', () => r((front.server.address() as AddressInfo).port)));
    http.emit('listening');
    const c = connect(port, '127.0.0.1');
    let got = '';
    let failure = '';
    c.setEncoding('latin1').on('data', (d: string) => (got += d));
    c.on('error', (err) => (failure = err.message));
    c.on('connect', () => c.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n'));
    try {
      await waitFor(() => parked.length === 1, { what: 'the connection accepted', timeoutMs: 5000 });
      // Several of the front's sweeps run past the 500 ms deadline while it is parked.
      await sleep(2000);
      assert.equal(got, '', 'nothing answered while parked');
      (parked[0] as Socket).resume();
      await waitFor(() => got.includes('served') || failure !== '' || c.destroyed, { what: 'an answer', timeoutMs: 5000 });
      assert.equal(failure, '');
      assert.match(got, /^HTTP\/1\.1 200 /);
    } finally {
      c.destroy();
      front.server.close();
      http.closeAllConnections();
    }
  });
});
