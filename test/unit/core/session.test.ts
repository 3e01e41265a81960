// Session state machine: connect rules (docs/protocol.md §3.1), protocol rules (§1.1), ping/pong (§1.10), stale, framing.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Client, makeNode, settle, tok, type TestNode } from './core-harness.js';

let tn: TestNode | undefined;
afterEach(async () => {
  await tn?.close();
  tn = undefined;
});

describe('connect', () => {
  it('accepts a valid token and advertises ping/pong, version, client id', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    const res = await c.connect({ token: tok({ sub: '42' }) });
    assert.equal(typeof res['client'], 'string');
    assert.equal(res['version'], '0.0.0 Gyre');
    assert.equal(res['ping'], 25);
    assert.equal(res['pong'], true);
    assert.equal(res['expires'], undefined);
    assert.equal(tn.node.stats().clients, 1);
    assert.equal(tn.node.stats().users, 1);
  });

  it('token with exp ⇒ expires + ttl', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    const res = await c.connect({ token: tok({ sub: '42', exp: Math.floor(Date.now() / 1000) + 100 }) });
    assert.equal(res['expires'], true);
    assert.ok((res['ttl'] as number) >= 99 && (res['ttl'] as number) <= 100);
  });

  it('expired token ⇒ error 109, then the connection is unusable (3501)', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    const r = await c.call({ connect: { token: 'expired' } });
    assert.deepEqual(r['error'], { code: 109, message: 'token expired' });
    assert.equal(c.t.closed, false);
    c.cmd({ connect: { token: tok({ sub: '1' }) } });
    assert.equal(await c.waitClosed(), 3501);
  });

  it('invalid token ⇒ disconnect 3500', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    c.cmd({ connect: { token: 'invalid' } });
    assert.equal(await c.waitClosed(), 3500);
    assert.equal(c.t.closeReason, 'invalid token');
  });

  it('no token: 3501 by default, anonymous when allowed or insecure', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    c.cmd({ connect: {} });
    assert.equal(await c.waitClosed(), 3501);
    await tn.close();
    tn = await makeNode({ client: { allow_anonymous_connect_without_token: true } });
    const c2 = new Client(tn.node);
    await c2.connect({});
    await tn.close();
    tn = await makeNode({ client: { insecure: true } });
    const c3 = new Client(tn.node);
    await c3.connect({});
  });

  it('anonymous token with disallow_anonymous_connection_tokens ⇒ 3507', async () => {
    tn = await makeNode({ client: { disallow_anonymous_connection_tokens: true } });
    const c = new Client(tn.node);
    c.cmd({ connect: { token: tok({ sub: '' }) } });
    assert.equal(await c.waitClosed(), 3507);
  });

  it('expire_at in the past ⇒ error 110', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    const r = await c.call({ connect: { token: tok({ sub: '1', expire_at: 1000 }) } });
    assert.equal((r['error'] as { code: number }).code, 110);
  });

  it('user_connection_limit ⇒ 3504', async () => {
    tn = await makeNode({ client: { user_connection_limit: 1 } });
    const a = new Client(tn.node);
    await a.connect({ token: tok({ sub: 'u' }) });
    const b = new Client(tn.node);
    b.cmd({ connect: { token: tok({ sub: 'u' }) } });
    assert.equal(await b.waitClosed(), 3504);
  });

  it('user id from user_id_http_header', async () => {
    tn = await makeNode({ client: { user_id_http_header: 'X-User' } });
    const c = new Client(tn.node, 'json', { 'x-user': 'hdr-user' });
    await c.connect({});
    assert.equal(tn.node.hub.userSessions('hdr-user')?.size, 1);
  });
});

describe('protocol rules', () => {
  it('command before connect ⇒ 3501', async () => {
    tn = await makeNode();
    const c = new Client(tn.node);
    c.cmd({ subscribe: { channel: 'x' } });
    assert.equal(await c.waitClosed(), 3501);
  });

  it('second connect ⇒ 3501', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    await c.connect();
    c.cmd({ connect: {} });
    assert.equal(await c.waitClosed(), 3501);
  });

  it('id 0 on a non-send command ⇒ 3501', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    await c.connect();
    c.send({ id: 0, subscribe: { channel: 'x' } });
    assert.equal(await c.waitClosed(), 3501);
  });

  it('unknown command (ping request) ⇒ 3501', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    await c.connect();
    c.cmd({ ping: {} });
    assert.equal(await c.waitClosed(), 3501);
  });

  it('malformed line: earlier commands answered, then 3501', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    c.sendRaw('{"id":1,"connect":{}}\n{not json');
    assert.equal(await c.waitClosed(), 3501);
    const msgs = c.t.messages();
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0]!['id'], 1);
    assert.ok(msgs[0]!['connect']);
  });

  it('empty frame ⇒ 3501', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    c.sendRaw('');
    assert.equal(await c.waitClosed(), 3501);
  });

  it('connect + subscribe in one frame are answered in order, one reply per frame (docs/deploy.md §5)', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    c.send({ id: 1, connect: {} }, { id: 2, subscribe: { channel: 'a' } }, { id: 3, subscribe: { channel: 'b' } });
    await c.next(3);
    assert.equal(c.t.frames.length, 3);
    const ids = c.t.messages().map((m) => m['id']);
    assert.deepEqual(ids, [1, 2, 3]);
  });

  it('send ⇒ disconnect 3508; rpc ⇒ 108', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    await c.connect();
    const r = await c.call({ rpc: { method: 'x' } });
    assert.equal((r['error'] as { code: number }).code, 108);
    c.send({ send: { data: { a: 1 } } });
    assert.equal(await c.waitClosed(), 3508);
  });

  it('rpc ping extension: method ⇒ {}, other ⇒ 104', async () => {
    tn = await makeNode({ client: { insecure: true }, rpcPing: { enabled: true, method: 'ping' } });
    const c = new Client(tn.node);
    await c.connect();
    assert.deepEqual((await c.call({ rpc: { method: 'ping' } }))['rpc'], {});
    assert.equal(((await c.call({ rpc: { method: 'nope' } }))['error'] as { code: number }).code, 104);
  });
});

describe('ping / pong / stale', () => {
  it('pong without a ping ⇒ 3501', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const c = new Client(tn.node);
    await c.connect();
    c.send({});
    assert.equal(await c.waitClosed(), 3501);
  });

  it('sends pings; a pong per ping keeps the connection; a missing pong ⇒ 3012', async () => {
    tn = await makeNode({ client: { insecure: true, ping_interval: 200, pong_timeout: 120 } });
    const c = new Client(tn.node);
    const res = await c.connect();
    assert.equal(res['ping'], 1); // rounded up to whole seconds
    for (let i = 0; i < 2; i++) {
      const [ping] = await c.next(1);
      assert.deepEqual(ping, {});
      c.send({});
    }
    assert.equal(c.t.closed, false);
    const [ping] = await c.next(1);
    assert.deepEqual(ping, {});
    assert.equal(await c.waitClosed(), 3012);
  });

  it('no connect within stale_close_delay ⇒ 3502', async () => {
    tn = await makeNode({ client: { stale_close_delay: 30 } });
    const c = new Client(tn.node);
    assert.equal(await c.waitClosed(), 3502);
  });

  it('connection expiration without refresh ⇒ 3005', async () => {
    tn = await makeNode({ client: { expired_close_delay: 10 } });
    const c = new Client(tn.node);
    await c.connect({ token: tok({ sub: '1', exp: Math.floor(Date.now() / 1000) + 1 }) });
    assert.equal(await c.waitClosed(3000), 3005);
  });

  it('transport close cleans up hub, subscriptions and presence', async () => {
    tn = await makeNode({ client: { insecure: true }, withoutNamespace: { presence: true } });
    const c = new Client(tn.node);
    await c.connect();
    await c.call({ subscribe: { channel: 'room' } });
    assert.equal((await tn.engine.presence.stats('room')).numClients, 1);
    c.port.handleTransportClose();
    await settle();
    assert.deepEqual(tn.node.stats(), { clients: 0, users: 0, subscriptions: 0, channels: 0 });
    assert.equal((await tn.engine.presence.stats('room')).numClients, 0);
  });

  it('shutdown closes sessions with 3001 and refuses new ones', async () => {
    tn = await makeNode({ client: { insecure: true } });
    const clients = [new Client(tn.node), new Client(tn.node)];
    for (const c of clients) await c.connect();
    await tn.node.shutdown();
    for (const c of clients) assert.equal(c.t.closeCode, 3001);
    assert.equal(tn.node.shuttingDown, true);
    const late = new Client(tn.node);
    assert.equal(late.t.closeCode, 3001);
  });
});

describe('error boundary', () => {
  it('an unexpected engine error ⇒ reply 100 (temporary), counted; other sessions unaffected', async () => {
    tn = await makeNode({ client: { insecure: true }, withoutNamespace: { presence: true } });
    const { metrics } = await import('../../../src/metrics/registry.js');
    const before = (await metrics.internalErrors.get()).values.find((v) => v.labels['entry'] === 'session')?.value ?? 0;
    const c = new Client(tn.node);
    const other = new Client(tn.node);
    await c.connect();
    await other.connect();
    const presence = tn.engine.presence;
    const orig = presence.get.bind(presence);
    presence.get = () => Promise.reject(new Error('boom'));
    const r = await c.call({ presence: { channel: 'x' } });
    presence.get = orig;
    assert.deepEqual(r['error'], { code: 100, message: 'internal server error', temporary: true });
    assert.equal(c.t.closed, false);
    const after = (await metrics.internalErrors.get()).values.find((v) => v.labels['entry'] === 'session')?.value ?? 0;
    assert.equal(after, before + 1);
    assert.deepEqual((await other.call({ presence: { channel: 'x' } }))['presence'], { presence: {} });
  });
});
