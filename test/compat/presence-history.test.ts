// Join/leave, presence, presence stats and history paging from centrifuge-js and cent.js
// (docs/protocol.md §1.7, §4.5 join_leave, §4.6, §5.5, §6.3 presence/presence_stats/history/history_remove).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JoinContext, LeaveContext, PublicationContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, callApi, ClientPool, collect, type TestClient } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';
import { subscribeOutcome } from './outcome.js';

describe('compat: presence, join/leave, history', () => {
  let gyre: GyreProcess;
  let cent: CentClient;
  const pool = new ClientPool();

  const connected = (user: string): Promise<TestClient & { id: string }> =>
    pool.connected(gyre.url, { sub: user, expIn: 3600, info: { u: user } });

  before(async () => {
    gyre = await startGyre(baseConfig());
    cent = new CentClient({ url: gyre.apiUrl, apiKey: API_KEY });
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('join/leave pushes reach subscribers that asked with joinLeave, carrying ClientInfo', async () => {
    const a = await connected('ann');
    const b = await connected('ben');
    const c = await connected('cid');
    const subA = a.client.newSubscription('pres:room', { joinLeave: true });
    const joinsA = collect<JoinContext>(subA, 'join');
    const leavesA = collect<LeaveContext>(subA, 'leave');
    assert.equal((await subscribeOutcome(subA)).kind, 'subscribed');
    const subC = c.client.newSubscription('pres:room'); // no joinLeave ⇒ no join/leave pushes
    const joinsC = collect<JoinContext>(subC, 'join');
    const pubsC = collect<PublicationContext>(subC, 'publication');
    assert.equal((await subscribeOutcome(subC)).kind, 'subscribed');

    const subB = b.client.newSubscription('pres:room', { joinLeave: true });
    const joinsB = collect<JoinContext>(subB, 'join');
    assert.equal((await subscribeOutcome(subB)).kind, 'subscribed');

    await waitFor(() => joinsA.some((j) => j.info.client === b.id), { what: 'A sees B join' });
    const jb = joinsA.find((j) => j.info.client === b.id);
    assert.equal(jb?.channel, 'pres:room');
    assert.equal(jb?.info.user, 'ben');
    assert.deepEqual(jb?.info.connInfo, { u: 'ben' });
    // The joining connection receives its own join too (§4.5).
    await waitFor(() => joinsB.some((j) => j.info.client === b.id), { what: 'B sees its own join' });

    // C did not ask for join/leave: once a later publication arrives, no join must have arrived before it.
    await cent.publish({ channel: 'pres:room', data: { after: 'join' } });
    await waitFor(() => pubsC.length === 1, { what: 'publication at C' });
    assert.equal(joinsC.length, 0);

    // Presence from a subscriber and from the API.
    const pres = await subA.presence();
    assert.deepEqual(Object.keys(pres.clients).sort(), [a.id, b.id, c.id].sort());
    assert.equal(pres.clients[b.id]?.user, 'ben');
    assert.deepEqual(pres.clients[b.id]?.connInfo, { u: 'ben' });
    assert.deepEqual(await subA.presenceStats(), { numClients: 3, numUsers: 3 });
    const apiPres = await cent.getPresence({ channel: 'pres:room' });
    assert.deepEqual(Object.keys(apiPres.presence).sort(), [a.id, b.id, c.id].sort());
    assert.deepEqual(apiPres.presence[a.id], { user: 'ann', client: a.id, conn_info: { u: 'ann' } });
    assert.deepEqual(await cent.getPresenceStats({ channel: 'pres:room' }), { num_clients: 3, num_users: 3 });

    // Leave on unsubscribe.
    subB.unsubscribe();
    await waitFor(() => leavesA.some((l) => l.info.client === b.id), { what: 'A sees B leave' });
    assert.equal(leavesA.find((l) => l.info.client === b.id)?.info.user, 'ben');
    await waitFor(async () => (await cent.getPresenceStats({ channel: 'pres:room' })).num_clients === 2, {
      what: 'presence to drop B',
    });
    // Leave on disconnect.
    c.client.disconnect();
    await waitFor(() => leavesA.some((l) => l.info.client === c.id), { what: 'A sees C leave on disconnect' });
  });

  it('presence without subscription ⇒ 103 (allow_presence_for_subscriber only)', async () => {
    const d = await connected('dan');
    await assert.rejects(d.client.presence('pres:elsewhere'), (e: unknown) => (e as { code: number }).code === 103);
  });

  it('history paging from the client: limit, since, reverse, limit 0', async () => {
    const ch = 'pres:hist';
    const positions: Array<{ offset?: number; epoch?: string }> = [];
    for (let i = 1; i <= 5; i++) positions.push(await cent.publish({ channel: ch, data: { i } }));
    assert.deepEqual(positions.map((p) => p.offset), [1, 2, 3, 4, 5]);
    const epoch = positions[0]?.epoch ?? '';
    assert.notEqual(epoch, '');

    const { client } = await connected('hal');
    const h1 = await client.history(ch, { limit: 2 });
    assert.deepEqual(h1.publications.map((p) => p.data), [{ i: 1 }, { i: 2 }]);
    assert.deepEqual(h1.publications.map((p) => p.offset), [1, 2]);
    assert.equal(h1.offset, 5);
    assert.equal(h1.epoch, epoch);

    const h2 = await client.history(ch, { limit: 2, since: { offset: 2, epoch } });
    assert.deepEqual(h2.publications.map((p) => p.offset), [3, 4]);
    const h3 = await client.history(ch, { limit: 2, reverse: true });
    assert.deepEqual(h3.publications.map((p) => p.offset), [5, 4]);
    const h4 = await client.history(ch, { limit: 10, reverse: true, since: { offset: 4, epoch } });
    assert.deepEqual(h4.publications.map((p) => p.offset), [3, 2, 1]);
    const h5 = await client.history(ch, { limit: 0 });
    assert.deepEqual(h5.publications, []);
    assert.equal(h5.offset, 5);
    assert.equal(h5.epoch, epoch);
    const h6 = await client.history(ch, { limit: -1 });
    assert.equal(h6.publications.length, 5);
    await assert.rejects(
      client.history(ch, { limit: 1, since: { offset: 1, epoch: 'not-the-epoch' } }),
      (e: unknown) => (e as { code: number }).code === 112,
    );
    await assert.rejects(
      client.history(ch, { limit: 1, reverse: true, since: { offset: 0, epoch } }),
      (e: unknown) => (e as { code: number }).code === 107,
    );
  });

  it('history paging and history_remove from the API (cent.js)', async () => {
    const ch = 'pres:api-hist';
    let epoch = '';
    for (let i = 1; i <= 4; i++) epoch = (await cent.publish({ channel: ch, data: { i } })).epoch ?? '';
    const all = await cent.getHistory({ channel: ch, limit: -1 });
    assert.deepEqual(all.publications.map((p) => p.data), [{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);
    assert.equal(all.offset, 4);
    assert.equal(all.epoch, epoch);
    const page = await cent.getHistory({ channel: ch, limit: 2, since: { offset: 1, epoch } });
    assert.deepEqual(page.publications.map((p) => (p as { offset?: number }).offset), [2, 3]);
    const rev = await cent.getHistory({ channel: ch, limit: 1, reverse: true });
    assert.deepEqual(rev.publications.map((p) => p.data), [{ i: 4 }]);
    const none = await cent.getHistory({ channel: ch });
    assert.deepEqual(none, { publications: [], epoch, offset: 4 });

    assert.deepEqual(await cent.removeHistory({ channel: ch }), {});
    const after = await cent.getHistory({ channel: ch, limit: -1 });
    assert.deepEqual(after, { publications: [], epoch, offset: 4 }, 'position kept after history_remove');
    // Next publication continues the offset sequence.
    assert.deepEqual(await cent.publish({ channel: ch, data: { i: 5 } }), { offset: 5, epoch });

    const wrongEpoch = await callApi(gyre.apiUrl, 'history', { channel: ch, limit: 1, since: { offset: 1, epoch: 'zzz' } });
    assert.deepEqual(wrongEpoch.body, { error: { code: 112, message: 'unrecoverable position' } });
    const noHistory = await callApi(gyre.apiUrl, 'history', { channel: 'open:x', limit: 1 });
    assert.deepEqual(noHistory.body, { error: { code: 108, message: 'not available' } });
    const noHistoryRemove = await callApi(gyre.apiUrl, 'history_remove', { channel: 'open:x' });
    assert.deepEqual(noHistoryRemove.body, { error: { code: 108, message: 'not available' } });
  });
});
