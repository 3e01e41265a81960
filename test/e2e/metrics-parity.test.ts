// Centrifugo-compatible metrics (docs/metrics.md): a real Gyre is scraped after connect, subscribe, a refused
// subscribe, publish, recovery, ping/pong, server unsubscribe and server disconnect, and every series added for
// dashboard parity must exist and have moved. The same scenario runs against real Centrifugo (when installed)
// and the Centrifugo-compatible names must be exposed by both with the same type, labels and buckets.
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, ClientPool, collect } from '../harness/clients.js';
import { findCentrifugo, startCentrifugo } from '../harness/centrifugo.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { parseScrape, scrape, total, type Scrape } from '../harness/prom-text.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';
import { enableRecoveredPublications } from '../../src/metrics/observe.js';
import { registry } from '../../src/metrics/registry.js';

/**
 * The names docs/metrics.md lists as Centrifugo-compatible, with their Prometheus type. Not here:
 * centrifugo_client_subscriptions_accepted (in centrifuge's source, but Centrifugo 6.9.1 does not expose it).
 */
const COMPATIBLE: Record<string, string> = {
  centrifugo_node_build: 'gauge',
  centrifugo_node_num_clients: 'gauge',
  centrifugo_node_num_users: 'gauge',
  centrifugo_node_num_subscriptions: 'gauge',
  centrifugo_node_num_channels: 'gauge',
  centrifugo_node_num_nodes: 'gauge',
  centrifugo_node_messages_sent_count: 'counter',
  centrifugo_node_messages_received_count: 'counter',
  centrifugo_node_broadcast_duration_seconds: 'histogram',
  centrifugo_node_pub_sub_lag_seconds: 'histogram',
  centrifugo_node_client_connection_limit: 'counter',
  centrifugo_broker_redis_pub_sub_dropped_messages: 'counter',
  centrifugo_client_connections_accepted: 'counter',
  centrifugo_client_connections_inflight: 'gauge',
  centrifugo_client_subscriptions_inflight: 'gauge',
  centrifugo_client_command_duration_seconds: 'summary',
  centrifugo_client_command_duration_seconds_histogram: 'histogram',
  centrifugo_client_num_reply_errors: 'counter',
  centrifugo_client_num_server_unsubscribes: 'counter',
  centrifugo_client_num_server_disconnects: 'counter',
  centrifugo_client_recover: 'counter',
  centrifugo_client_recovered_publications: 'histogram',
  centrifugo_client_ping_pong_duration_seconds: 'histogram',
  centrifugo_transport_messages_sent: 'counter',
  centrifugo_transport_messages_sent_size: 'counter',
  centrifugo_transport_messages_received: 'counter',
  centrifugo_transport_messages_received_size: 'counter',
  centrifugo_transport_outgoing_close_count: 'counter',
  centrifugo_node_action_count: 'counter',
  centrifugo_api_command_duration_seconds_histogram: 'histogram',
  centrifugo_node_survey_duration_seconds: 'summary',
  centrifugo_node_survey_duration_seconds_histogram: 'histogram',
};

const CONFIG = mergeConfig(baseConfig(), {
  prometheus: { enabled: true, recovered_publications_histogram: true },
  client: { ping_interval: '1s', pong_timeout: '500ms' },
});

interface Target {
  url: string;
  apiUrl: string;
  baseUrl: string;
}

/** connect → subscribe → refused subscribe → publish → client away, 2 missed → recovery → pong → server unsub/disconnect. */
async function scenario(t: Target, pool: ClientPool, user: string, mid?: () => Promise<void>): Promise<void> {
  const cent = new CentClient({ url: t.apiUrl, apiKey: API_KEY });
  const channel = `rec:metrics-${user}`;
  const { client } = pool.json(t.url, { token: await connToken({ sub: user, expIn: 3600 }) });
  const sub = client.newSubscription(channel);
  const subscribed = collect<SubscribedContext>(sub, 'subscribed');
  const pubs = collect<PublicationContext>(sub, 'publication');
  sub.subscribe();
  const refused = client.newSubscription('closed:nope');
  const refusals: unknown[] = [];
  refused.on('error', (e) => refusals.push(e));
  refused.on('unsubscribed', (e) => refusals.push(e));
  refused.subscribe();
  client.connect();
  await waitFor(() => subscribed.length === 1 && refusals.length > 0, { what: 'subscribed and refused' });
  await cent.publish({ channel, data: { n: 1 } });
  await waitFor(() => pubs.length === 1, { what: 'live publication' });
  // The `channels` API method asks every node with a survey (one node here: it answers itself).
  const listed = await cent.getChannels({ pattern: channel });
  assert.ok(Object.keys(listed.channels ?? {}).includes(channel), 'channels lists the subscribed channel');
  if (mid !== undefined) await mid();
  client.disconnect();
  await cent.publish({ channel, data: { n: 2 } });
  await cent.publish({ channel, data: { n: 3 } });
  client.connect();
  await waitFor(() => subscribed.length === 2 && pubs.length === 3, { what: 'recovered subscription' });
  assert.equal(subscribed[1]?.wasRecovering, true);
  assert.equal(subscribed[1]?.recovered, true);
  // ping_interval 1s: the first ping comes within a second; centrifuge-js answers it.
  await waitFor(async () => total(await scrape(`${t.baseUrl}/metrics`), 'centrifugo_client_ping_pong_duration_seconds_count') > 0, {
    what: 'a ping/pong',
    timeoutMs: 10_000,
  });
  // Events, not state polling: the client may reconnect before a poll would see it away.
  const unsubscribed = collect<unknown>(sub, 'unsubscribed');
  await cent.unsubscribe({ user, channel });
  await waitFor(() => unsubscribed.length > 0, { what: 'server unsubscribe' });
  const away = collect<unknown>(client, 'connecting');
  client.on('disconnected', (ctx) => away.push(ctx));
  await cent.disconnect({ user });
  await waitFor(() => away.length > 0, { what: 'server disconnect' });
  pool.closeAll();
}

/** Bucket bounds of one histogram family in a scrape, ascending (Go prints 1e-06 where JS prints 0.000001). */
function buckets(s: Scrape, family: string): number[] {
  const les = new Set<number>();
  for (const x of s.samples) if (x.name === `${family}_bucket`) les.add(Number(x.labels['le']));
  return [...les].sort((a, b) => a - b);
}

/** Label names seen on samples of one family (quantile/le excluded). */
function labelNames(s: Scrape, family: string): string[] {
  const names = new Set<string>();
  for (const x of s.samples) {
    if (x.name !== family && !x.name.startsWith(`${family}_`)) continue;
    if (x.name.startsWith(`${family}_`) && !/_(bucket|sum|count)$/.test(x.name.slice(family.length))) continue;
    for (const k of Object.keys(x.labels)) if (k !== 'le' && k !== 'quantile') names.add(k);
  }
  return [...names].sort();
}

/** A TCP connection that sends only part of an upgrade head: a handshake in flight until it is destroyed. */
function halfHandshake(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => {
      s.write('GET /connection/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      resolve(s);
    });
    s.on('error', reject);
  });
}

describe('metrics: Centrifugo parity', () => {
  let gyre: GyreProcess;
  let gyreScrape: Scrape;
  let subsInflightMid = 0;
  let handshakesMid = 0;
  const pool = new ClientPool();

  before(async () => {
    gyre = await startGyre(CONFIG);
    await scenario(gyre, pool, 'metrics-user', async () => {
      const half = await halfHandshake(gyre.port);
      try {
        await waitFor(async () => total(await scrape(`${gyre.baseUrl}/metrics`), 'gyre_handshakes_inflight') >= 1, {
          what: 'a handshake in flight',
        });
        const s = await scrape(`${gyre.baseUrl}/metrics`);
        handshakesMid = total(s, 'gyre_handshakes_inflight');
        subsInflightMid = total(s, 'centrifugo_client_subscriptions_inflight', { channel_namespace: '' });
      } finally {
        half.destroy();
      }
    });
    // A reconnect the server disconnect started may still be opening: wait for both gauges to settle.
    await waitFor(
      async () => {
        const s = await scrape(`${gyre.baseUrl}/metrics`);
        return total(s, 'centrifugo_client_subscriptions_inflight') === 0 && total(s, 'gyre_handshakes_inflight') === 0;
      },
      { what: 'subscriptions and handshakes gone' },
    );
    gyreScrape = await scrape(`${gyre.baseUrl}/metrics`);
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('exposes every added series, and each moved', () => {
    const s = gyreScrape;
    const moved: Array<[string, number]> = [
      ['centrifugo_client_command_duration_seconds_count{method=connect}', total(s, 'centrifugo_client_command_duration_seconds_count', { method: 'connect' })],
      ['centrifugo_client_command_duration_seconds_count{method=subscribe}', total(s, 'centrifugo_client_command_duration_seconds_count', { method: 'subscribe' })],
      ['centrifugo_client_recovered_publications_sum', total(s, 'centrifugo_client_recovered_publications_sum', { channel_namespace: '' })],
      ['centrifugo_client_recover{recovered=yes}', total(s, 'centrifugo_client_recover', { recovered: 'yes', has_recovered_publications: 'yes' })],
      ['centrifugo_client_ping_pong_duration_seconds_count', total(s, 'centrifugo_client_ping_pong_duration_seconds_count', { transport: 'websocket' })],
      ['centrifugo_node_broadcast_duration_seconds_count', total(s, 'centrifugo_node_broadcast_duration_seconds_count', { type: 'publication', channel_namespace: '' })],
      ['centrifugo_transport_outgoing_close_count', total(s, 'centrifugo_transport_outgoing_close_count', { transport: 'websocket' })],
      ['centrifugo_node_action_count{action=add_client}', total(s, 'centrifugo_node_action_count', { action: 'add_client' })],
      ['centrifugo_node_action_count{action=remove_subscription}', total(s, 'centrifugo_node_action_count', { action: 'remove_subscription', channel_namespace: '' })],
      ['centrifugo_node_pub_sub_lag_seconds_count', total(s, 'centrifugo_node_pub_sub_lag_seconds_count', { channel_namespace: '' })],
      ['centrifugo_node_action_count{action=history_recover}', total(s, 'centrifugo_node_action_count', { action: 'history_recover', channel_namespace: '' })],
      ['centrifugo_node_action_count{action=broker_unsubscribe}', total(s, 'centrifugo_node_action_count', { action: 'broker_unsubscribe', channel_namespace: '' })],
      ['gyre_handshake_duration_seconds_count', total(s, 'gyre_handshake_duration_seconds_count')],
      ['centrifugo_node_survey_duration_seconds_histogram_count{op=channels}', total(s, 'centrifugo_node_survey_duration_seconds_histogram_count', { op: 'channels' })],
      ['centrifugo_node_survey_duration_seconds_count{op=channels}', total(s, 'centrifugo_node_survey_duration_seconds_count', { op: 'channels' })],
      ['gyre_client_recovery_duration_seconds_count', total(s, 'gyre_client_recovery_duration_seconds_count', { channel_namespace: 'rec' })],
      ['centrifugo_client_subscriptions_inflight (mid-scenario)', subsInflightMid],
      ['gyre_handshakes_inflight (half-sent head)', handshakesMid],
    ];
    for (const [what, v] of moved) assert.ok(v > 0, `${what} = ${v}`);
    // Two publications were missed and recovered (two connects: one each).
    assert.equal(total(s, 'centrifugo_client_recovered_publications_sum'), 2);
    assert.equal(total(s, 'centrifugo_client_recovered_publications_count'), 1);
    assert.ok(total(s, 'gyre_handshake_duration_seconds_count') >= 2);
    // Two connects and two subscribes (one refused before the hub), all undone by the end.
    for (const [add, remove] of [['add_client', 'remove_client'], ['add_subscription', 'remove_subscription']] as const) {
      assert.equal(total(s, 'centrifugo_node_action_count', { action: add }), 2, add);
      assert.equal(total(s, 'centrifugo_node_action_count', { action: remove }), 2, remove);
    }
    // Gauges back to zero once everything is gone.
    assert.equal(total(s, 'centrifugo_client_subscriptions_inflight'), 0);
    assert.equal(total(s, 'gyre_handshakes_inflight'), 0);
  });

  it('registers every Centrifugo-compatible name with its type', async () => {
    // What prometheus.recovered_publications_histogram does at start-up (src/app.ts).
    enableRecoveredPublications();
    const registered = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
    for (const [name, type] of Object.entries(COMPATIBLE)) {
      assert.equal(registered.get(name), type, `${name} in src/metrics/registry.ts`);
      assert.equal(gyreScrape.types.get(name), type, `${name} in Gyre's /metrics`);
    }
  });

  it('matches real Centrifugo: names, types, labels and buckets', async (t) => {
    const binary = findCentrifugo();
    if (binary === undefined) {
      t.skip('centrifugo binary not installed (scripts/install-centrifugo.sh)');
      return;
    }
    const cf = await startCentrifugo(CONFIG, { binary });
    const cfPool = new ClientPool();
    let cfScrape: Scrape;
    try {
      await scenario(cf, cfPool, 'metrics-user');
      cfScrape = parseScrape(await (await fetch(`${cf.baseUrl}/metrics`)).text());
    } finally {
      cfPool.closeAll();
      await cf.stop();
    }
    const problems: string[] = [];
    for (const [name, type] of Object.entries(COMPATIBLE)) {
      if (cfScrape.types.get(name) !== type) problems.push(`Centrifugo: ${name} is ${cfScrape.types.get(name) ?? 'absent'}, not ${type}`);
      const cfLabels = labelNames(cfScrape, name);
      const gyreLabels = labelNames(gyreScrape, name);
      if (cfLabels.length > 0 && gyreLabels.length > 0 && cfLabels.join() !== gyreLabels.join()) {
        problems.push(`labels of ${name}: Gyre ${gyreLabels.join()} vs Centrifugo ${cfLabels.join()}`);
      }
      if (type === 'histogram') {
        const cfB = buckets(cfScrape, name).join();
        const gB = buckets(gyreScrape, name).join();
        if (cfB !== '' && gB !== '' && cfB !== gB) problems.push(`buckets of ${name}: Gyre ${gB} vs Centrifugo ${cfB}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
