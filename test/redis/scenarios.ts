// Cross-node scenarios run against any set of server processes sharing one Redis engine (3 Gyre nodes on a
// standalone Redis, on 2 shards, on a Cluster, through Sentinel; or a Gyre and a Centrifugo node). Each scenario
// drives the official centrifuge-js client and cent.js, and uses fresh channel names so they can share servers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { DisconnectedContext, PublicationContext, SubscribedContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, callApi, collect, isRecord, type ClientPool } from '../harness/clients.js';
import { connToken } from '../harness/tokens.js';
import { sleep, waitFor } from '../harness/wait.js';
import { DELTA_NAMESPACE } from './delta-scenario.js';

export interface ServerNode {
  name: string;
  url: string;
  apiUrl: string;
}

export const uniq = (p: string): string => `${p}${randomBytes(5).toString('hex')}`;

/** Namespaces the scenarios use; servers must be started with these (see redisClusterConfig). */
export function scenarioNamespaces(): Record<string, unknown>[] {
  return [
    {
      name: 'xx',
      presence: true,
      join_leave: true,
      force_push_join_leave: true,
      history_size: 100,
      history_ttl: '300s',
      force_recovery: true,
      allow_subscribe_for_client: true,
      allow_publish_for_subscriber: true,
      allow_presence_for_subscriber: true,
      allow_history_for_subscriber: true,
    },
    { name: 'srv', history_size: 10, history_ttl: '300s' },
    DELTA_NAMESPACE,
  ];
}

const cent = (n: ServerNode): CentClient => new CentClient({ url: n.apiUrl, apiKey: API_KEY });

/** A centrifuge-js client of `user` on `node`, subscribed to `channel`, recording what the subscription gets. */
export async function subscribedClient(pool: ClientPool, node: ServerNode, user: string, channel: string) {
  const { client, rec } = pool.json(node.url, { token: await connToken({ sub: user, expIn: 3600 }) });
  const sub = client.newSubscription(channel);
  const pubs = collect<PublicationContext>(sub, 'publication');
  const joins: string[] = [];
  const leaves: string[] = [];
  sub.on('join', (j) => joins.push(j.info.user));
  sub.on('leave', (l) => leaves.push(l.info.user));
  const subscribed = collect<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  client.connect();
  await waitFor(() => subscribed.length === 1, { what: `subscribed on ${node.name}` });
  return { client, rec, sub, pubs, joins, leaves, subscribed };
}

/** A publication through each node's API reaches the subscribers on every node, in offset order. */
export async function crossNodePublications(pool: ClientPool, nodes: readonly ServerNode[]): Promise<void> {
  const ch = uniq('xx:pub');
  const subs = [];
  for (const [i, n] of nodes.entries()) subs.push(await subscribedClient(pool, n, `pub-u${i}`, ch));
  const offsets: number[] = [];
  for (const [i, n] of nodes.entries()) {
    const r = await cent(n).publish({ channel: ch, data: { via: n.name, i } });
    offsets.push(Number(r.offset));
  }
  assert.deepEqual(offsets, nodes.map((_, i) => i + 1), 'offsets assigned in one stream whichever node publishes');
  for (const [i, s] of subs.entries()) {
    await waitFor(() => s.pubs.length === nodes.length, { what: `all publications on ${nodes[i]!.name}`, timeoutMs: 5000 });
    assert.deepEqual(
      s.pubs.map((p) => [(p.data as { via: string }).via, Number(p.offset)]),
      nodes.map((n, j) => [n.name, j + 1]),
      `publications on ${nodes[i]!.name}; what the server wrote: ${JSON.stringify(s.rec.messages())}`,
    );
  }
  for (const s of subs) s.client.disconnect();
}

/** Presence and presence_stats list the subscribers of every node, through any node's API; join/leave cross. */
export async function presenceAggregates(pool: ClientPool, nodes: readonly ServerNode[]): Promise<void> {
  const ch = uniq('xx:pres');
  const first = await subscribedClient(pool, nodes[0]!, 'pres-u0', ch);
  const others = [];
  for (let i = 1; i < nodes.length; i++) others.push(await subscribedClient(pool, nodes[i]!, `pres-u${i}`, ch));
  const users = nodes.map((_, i) => `pres-u${i}`);
  const othersJoined = (): string[] => [...new Set(first.joins.filter((u) => u !== 'pres-u0'))].sort();
  await waitFor(() => othersJoined().length >= nodes.length - 1, { what: 'joins from other nodes', timeoutMs: 5000 });
  assert.deepEqual(othersJoined(), users.slice(1).sort());
  for (const n of nodes) {
    const p = await callApi(n.apiUrl, 'presence', { channel: ch });
    const presence = (p.body as { result: { presence: Record<string, { user: string }> } }).result.presence;
    assert.deepEqual(Object.values(presence).map((c) => c.user).sort(), [...users].sort(), `presence via ${n.name}`);
    const st = await callApi(n.apiUrl, 'presence_stats', { channel: ch });
    assert.deepEqual((st.body as { result: unknown }).result, { num_clients: nodes.length, num_users: nodes.length });
  }
  const last = others[others.length - 1];
  if (last !== undefined) {
    last.sub.unsubscribe();
    await waitFor(() => first.leaves.includes(`pres-u${nodes.length - 1}`), { what: 'leave from another node', timeoutMs: 5000 });
    const st = await callApi(nodes[0]!.apiUrl, 'presence_stats', { channel: ch });
    assert.deepEqual((st.body as { result: unknown }).result, { num_clients: nodes.length - 1, num_users: nodes.length - 1 });
  }
  first.client.disconnect();
  for (const o of others) o.client.disconnect();
}

/** History is the same through every node; a client recovers on another node from where it left off. */
export async function historyAndRecovery(pool: ClientPool, a: ServerNode, b: ServerNode): Promise<void> {
  const ch = uniq('xx:rec');
  const s = await subscribedClient(pool, a, 'rec-u', ch);
  await cent(a).publish({ channel: ch, data: { n: 1 } });
  await cent(b).publish({ channel: ch, data: { n: 2 } });
  await waitFor(() => s.pubs.length === 2, { what: 'live publications' });
  const epoch = s.subscribed[0]?.streamPosition?.epoch ?? '';
  assert.ok(epoch !== '');
  s.client.disconnect();
  for (let n = 3; n <= 5; n++) await cent(n % 2 === 0 ? a : b).publish({ channel: ch, data: { n } });
  for (const n of [a, b]) {
    const h = await callApi(n.apiUrl, 'history', { channel: ch, limit: -1 });
    const r = (h.body as { result: { publications: { data: { n: number }; offset: number }[]; epoch: string; offset: number } }).result;
    assert.equal(r.epoch, epoch, `epoch via ${n.name}`);
    assert.equal(r.offset, 5);
    assert.deepEqual(r.publications.map((p) => [p.data.n, p.offset]), [1, 2, 3, 4, 5].map((n) => [n, n]));
  }
  // Reconnect to the other node from the last seen position.
  const { client } = pool.json(b.url, { token: await connToken({ sub: 'rec-u', expIn: 3600 }) });
  const sub = client.newSubscription(ch, { since: { offset: 2, epoch } });
  const pubs = collect<PublicationContext>(sub, 'publication');
  const subscribed = collect<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  client.connect();
  await waitFor(() => subscribed.length === 1 && pubs.length === 3, { what: `recovery on ${b.name}` });
  assert.equal(subscribed[0]?.recovered, true);
  assert.deepEqual(pubs.map((p) => [(p.data as { n: number }).n, Number(p.offset)]), [[3, 3], [4, 4], [5, 5]]);
  client.disconnect();
}

/** API subscribe, unsubscribe, refresh and disconnect through `via` reach a user connected to `target`. */
export async function apiReachesOtherNode(pool: ClientPool, target: ServerNode, via: ServerNode): Promise<void> {
  const user = uniq('ctl-u');
  const { client } = pool.json(target.url, { token: await connToken({ sub: user, expIn: 3600 }) });
  const serverSubs: string[] = [];
  const serverUnsubs: string[] = [];
  const serverPubs: string[] = [];
  client.on('subscribed', (c) => serverSubs.push(c.channel));
  client.on('unsubscribed', (c) => serverUnsubs.push(c.channel));
  client.on('publication', (c) => serverPubs.push(`${c.channel}:${JSON.stringify(c.data)}`));
  const connected = collect<unknown>(client, 'connected');
  client.connect();
  await waitFor(() => connected.length === 1, { what: `connected to ${target.name}` });
  const ch = uniq('srv:c');
  const sub = await callApi(via.apiUrl, 'subscribe', { user, channel: ch });
  assert.equal(sub.status, 200, sub.text);
  await waitFor(() => serverSubs.includes(ch), { what: `server-side subscribe from ${via.name}`, timeoutMs: 5000 });
  await cent(via).publish({ channel: ch, data: { hello: 1 } });
  await waitFor(() => serverPubs.includes(`${ch}:{"hello":1}`), { what: 'publication on the server-side subscription' });
  const unsub = await callApi(via.apiUrl, 'unsubscribe', { user, channel: ch });
  assert.equal(unsub.status, 200, unsub.text);
  await waitFor(() => serverUnsubs.includes(ch), { what: `server-side unsubscribe from ${via.name}`, timeoutMs: 5000 });
  const connecting: number[] = [];
  client.on('connecting', (c) => connecting.push(c.code));
  const refresh = await callApi(via.apiUrl, 'refresh', { user, expired: true });
  assert.equal(refresh.status, 200, refresh.text);
  await waitFor(() => connecting.includes(3005), { what: `refresh expired (3005) from ${via.name}`, timeoutMs: 5000 });
  await waitFor(() => connected.length === 2, { what: 'reconnected after 3005' });
  const disconnected = collect<DisconnectedContext>(client, 'disconnected');
  const d = await callApi(via.apiUrl, 'disconnect', { user, disconnect: { code: 4501, reason: 'bye' } });
  assert.equal(d.status, 200, d.text);
  await waitFor(() => disconnected.length === 1, { what: `API disconnect from ${via.name}`, timeoutMs: 5000 });
  assert.equal(disconnected[0]?.code, 4501);
}

/** `info` through any node lists exactly `names` (by node name). */
export async function infoLists(nodes: readonly ServerNode[], names: readonly string[], timeoutMs = 10_000): Promise<void> {
  for (const n of nodes) {
    await waitFor(
      async () => {
        const r = await callApi(n.apiUrl, 'info', {});
        const body = r.body;
        if (!isRecord(body) || !isRecord(body['result'])) return false;
        const list = body['result']['nodes'];
        if (!Array.isArray(list)) return false;
        const got = list.map((x) => (isRecord(x) ? String(x['name']) : '')).sort();
        return JSON.stringify(got) === JSON.stringify([...names].sort());
      },
      { what: `info via ${n.name} to list ${names.join(', ')}`, timeoutMs, intervalMs: 200 },
    );
  }
}

/**
 * `channels` through any node merges every node's channels (a survey), with each channel's client count; `info`
 * through any node shows each node's client count (from its heartbeats): one client more on node i reads as one
 * more for node i everywhere.
 */
export async function channelsAndCounts(pool: ClientPool, nodes: readonly ServerNode[]): Promise<void> {
  const base = uniq('xx:chan');
  const counts = async (via: ServerNode): Promise<Map<string, number>> => {
    const r = await callApi(via.apiUrl, 'info', {});
    const list = (r.body as { result: { nodes: { name: string; num_clients: number }[] } }).result.nodes;
    return new Map(list.map((n) => [n.name, n.num_clients]));
  };
  const views = async (): Promise<string[]> => Promise.all(nodes.map(async (v) => JSON.stringify([...(await counts(v))].sort())));
  // Clients of earlier scenarios may still be leaving: wait until every node shows the same counts, unchanged
  // over a heartbeat interval (3 s).
  let settled = await views();
  for (let k = 0; k < 10; k++) {
    await sleep(3200);
    const now = await views();
    const same = now.every((v) => v === now[0]) && JSON.stringify(now) === JSON.stringify(settled);
    settled = now;
    if (same) break;
  }
  const expected = await counts(nodes[0]!);
  const clients = [];
  for (const [i, n] of nodes.entries()) {
    clients.push(await subscribedClient(pool, n, `chan-u${i}`, `${base}-${i}`));
    expected.set(n.name, (expected.get(n.name) ?? 0) + 1);
    const want = JSON.stringify([...expected].sort());
    for (const via of nodes) {
      await waitFor(async () => JSON.stringify([...(await counts(via))].sort()) === want, {
        what: `info via ${via.name} to show ${want}`,
        timeoutMs: 10_000,
        intervalMs: 200,
      });
    }
  }
  const want = Object.fromEntries(nodes.map((_, i) => [`${base}-${i}`, { num_clients: 1 }]));
  for (const via of nodes) {
    const r = await callApi(via.apiUrl, 'channels', { pattern: `${base}-*` });
    assert.deepEqual((r.body as { result: { channels: unknown } }).result.channels, want, `channels via ${via.name}`);
  }
  for (const c of clients) c.client.disconnect();
}
