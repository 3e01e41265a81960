// `gyre --workers 2` with the memory engine: the server API calls that target users or ask every node behave as on
// one node whichever worker answers the call (docs/workers.md, control plane relayed by the primary). Clients are
// connected until each worker holds some (read from `info`'s per-node counts), then for every client: API
// subscribe, unsubscribe, refresh (expired: 3005 and a reconnect) and disconnect reach it, and `channels` lists
// every client's channel. The calls of each kind go back to back over one keep-alive socket (an http.Agent with
// one socket), so one worker answers them all while the clients sit on both: each kind of command has to cross
// to the other worker for some client.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { DisconnectedContext } from 'centrifuge';
import { baseConfig } from '../compat/base-config.js';
import { API_KEY, callApi, ClientPool, collect } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { uniq } from '../redis/scenarios.js';

interface Member {
  user: string;
  channel: string;
  client: ReturnType<ClientPool['json']>['client'];
  subscribed: string[];
  unsubscribed: string[];
  connecting: number[];
  connected: unknown[];
}

/** One keep-alive socket for every call: one worker answers them. */
const oneSocket = new Agent({ keepAlive: true, maxSockets: 1 });

function apiOnOneSocket(apiUrl: string, method: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      `${apiUrl}/${method}`,
      { method: 'POST', agent: oneSocket, headers: { 'Content-Type': 'application/json', 'X-API-Key': API_KEY, 'Content-Length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`${method}: no answer in 5 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

describe('worker processes: targeted API calls reach the client on either worker', { timeout: 180_000 }, () => {
  const pool = new ClientPool();
  const members: Member[] = [];
  let g: GyreProcess;

  before(async () => {
    g = await startGyre(
      mergeConfig(baseConfig(), {
        log: { level: 'info' },
        channel: { namespaces: [{ name: 'srv' }, { name: 'own', allow_subscribe_for_client: true }] },
      }),
      { args: ['--workers', '2'], env: { GYRE_HTTP_SERVER_WARMUP_CONNECTIONS: '20' }, startTimeoutMs: 90_000 },
    );
    await waitFor(() => g.stdout().includes('2 workers serving'), { what: 'both workers serving', timeoutMs: 90_000 });
  });
  after(async () => {
    pool.closeAll();
    oneSocket.destroy();
    await g.stop('SIGTERM', 15_000);
  });

  async function join(): Promise<Member> {
    const user = uniq('wa-u');
    const { client } = pool.json(g.url, { token: await connToken({ sub: user, expIn: 3600 }) });
    const m: Member = { user, channel: uniq('own:c'), client, subscribed: [], unsubscribed: [], connecting: [], connected: collect<unknown>(client, 'connected') };
    client.on('subscribed', (c) => m.subscribed.push(c.channel));
    client.on('unsubscribed', (c) => m.unsubscribed.push(c.channel));
    client.on('connecting', (c) => m.connecting.push(c.code));
    const sub = client.newSubscription(m.channel);
    const subscribed = collect<unknown>(sub, 'subscribed');
    sub.subscribe();
    client.connect();
    await waitFor(() => subscribed.length === 1, { what: `${user} subscribed` });
    members.push(m);
    return m;
  }

  it('spreads the clients over both workers', async () => {
    for (let i = 0; i < 16; i++) {
      await join();
      const nodes = await waitFor(
        async () => {
          const r = await callApi(g.apiUrl, 'info', {});
          const list = (r.body as { result: { nodes: { num_clients: number }[] } }).result.nodes;
          return list.length === 2 && list.reduce((a, n) => a + n.num_clients, 0) === members.length ? list : false;
        },
        { what: 'node counts caught up', timeoutMs: 10_000, intervalMs: 250 },
      );
      if (members.length >= 2 && nodes.every((n) => n.num_clients >= 1)) return;
    }
    assert.fail('the clients never spread over both workers');
  });

  it('channels lists the channels of the clients on both workers', async () => {
    const body = await apiOnOneSocket(g.apiUrl, 'channels', { pattern: 'own:*' });
    const channels = Object.keys((body as { result: { channels: Record<string, unknown> } }).result.channels).sort();
    assert.deepEqual(channels, members.map((m) => m.channel).sort());
  });

  it('API subscribe and unsubscribe reach every client', async () => {
    for (const m of members) {
      assert.deepEqual(await apiOnOneSocket(g.apiUrl, 'subscribe', { user: m.user, channel: `srv:${m.user}` }), { result: {} });
    }
    for (const m of members) await waitFor(() => m.subscribed.includes(`srv:${m.user}`), { what: `${m.user} server-side subscribed` });
    for (const m of members) {
      assert.deepEqual(await apiOnOneSocket(g.apiUrl, 'unsubscribe', { user: m.user, channel: `srv:${m.user}` }), { result: {} });
    }
    for (const m of members) await waitFor(() => m.unsubscribed.includes(`srv:${m.user}`), { what: `${m.user} server-side unsubscribed` });
  });

  it('API refresh (expired) closes every client with 3005, and they reconnect', async () => {
    for (const m of members) {
      assert.deepEqual(await apiOnOneSocket(g.apiUrl, 'refresh', { user: m.user, expired: true }), { result: {} });
    }
    for (const m of members) {
      await waitFor(() => m.connecting.includes(3005) && m.connected.length === 2, { what: `${m.user} refreshed out and back` });
    }
  });

  it('API disconnect reaches every client', async () => {
    const disconnected = members.map((m) => collect<DisconnectedContext>(m.client, 'disconnected'));
    for (const m of members) {
      assert.deepEqual(await apiOnOneSocket(g.apiUrl, 'disconnect', { user: m.user, disconnect: { code: 4501, reason: 'bye' } }), { result: {} });
    }
    for (const [i, m] of members.entries()) {
      await waitFor(() => disconnected[i]!.length === 1, { what: `${m.user} disconnected` });
      assert.equal(disconnected[i]![0]!.code, 4501);
    }
  });
});
