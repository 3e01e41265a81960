// The protobuf build of centrifuge-js 5.7.4 against Gyre (docs/protocol.md §1.2 Protobuf, §1.4, §11 protobuf notes).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Centrifuge as PbCentrifuge, State } from 'centrifuge/build/protobuf';
import type { ConnectedContext, PublicationContext } from 'centrifuge/build/protobuf';
import { CentClient } from 'cent.js';
import { API_KEY, ClientPool, recorder } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';
import { subscribeOutcome } from './outcome.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function asBytes(v: unknown): Uint8Array {
  assert.ok(v instanceof Uint8Array, `expected bytes, got ${typeof v}`);
  return v;
}

describe('compat: protobuf client', () => {
  let gyre: GyreProcess;
  let cent: CentClient;
  const pool = new ClientPool();
  const clients: PbCentrifuge[] = [];
  before(async () => {
    gyre = await startGyre(baseConfig());
    cent = new CentClient({ url: gyre.apiUrl, apiKey: API_KEY });
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    pool.closeAll();
    await gyre?.stop();
  });

  it('connects over centrifuge-protobuf, subscribes, publishes and receives (binary frames)', async () => {
    const rec = recorder();
    const client = new PbCentrifuge(gyre.url, {
      websocket: rec.WebSocketClass,
      token: await connToken({ sub: 'pb-user', expIn: 3600 }),
      minReconnectDelay: 50,
      maxReconnectDelay: 300,
    });
    clients.push(client);
    const connected = nextEvent<ConnectedContext>(client, 'connected');
    client.connect();
    const cctx = await connected;
    assert.equal(cctx.transport, 'websocket');
    assert.ok(cctx.client.length > 0);
    assert.equal(rec.sockets[0]?.protocol, 'centrifuge-protobuf', 'server echoes the protobuf subprotocol');
    assert.ok(rec.frames.length > 0 && rec.frames.every((f) => f.binary !== null), 'all frames are binary');

    // A JSON client on the same channel sees what the protobuf client publishes (JSON bytes as payload).
    const json = pool.json(gyre.url, { token: await connToken({ sub: 'json-user', expIn: 3600 }) });
    json.client.connect();
    const jsub = json.client.newSubscription('open:pb');
    assert.equal((await subscribeOutcome(jsub)).kind, 'subscribed');

    const sub = client.newSubscription('open:pb');
    const subscribed = nextEvent(sub, 'subscribed');
    sub.subscribe();
    await subscribed;

    const mine = nextEvent<PublicationContext>(sub, 'publication');
    const theirs = nextEvent<PublicationContext>(jsub, 'publication');
    await sub.publish(enc.encode(JSON.stringify({ from: 'pb' })));
    assert.deepEqual(JSON.parse(dec.decode(asBytes((await mine).data))), { from: 'pb' });
    const j = await theirs;
    assert.deepEqual(j.data, { from: 'pb' });
    assert.equal(j.info?.user, 'pb-user');

    // API publication reaches the protobuf client as raw bytes.
    const apiPub = nextEvent<PublicationContext>(sub, 'publication');
    await cent.publish({ channel: 'open:pb', data: { from: 'api' } });
    assert.deepEqual(JSON.parse(dec.decode(asBytes((await apiPub).data))), { from: 'api' });

    // History over protobuf.
    await cent.publish({ channel: 'pres:pbh', data: { h: 1 } });
    const hist = await client.history('pres:pbh', { limit: 5 });
    assert.equal(hist.publications.length, 1);
    // The protobuf build decodes uint64 as a protobufjs Long, so compare its decimal form.
    assert.equal(String(hist.offset), '1');
    assert.deepEqual(JSON.parse(dec.decode(asBytes(hist.publications[0]?.data))), { h: 1 });

    // Protobuf errors carry codes too.
    await assert.rejects(client.rpc('x', new Uint8Array()), (e: unknown) => (e as { code: number }).code === 108);
    await waitFor(() => client.state === State.Connected, { what: 'still connected' });
  });
});
