// Every centrifugo_* series of /metrics, not only the dashboard ones (docs/metrics.md): Gyre is scraped fresh and
// after one round of traffic (connect, subscribe with presence/join-leave/history and with a tags filter, client and
// API publishes, a repeated idempotency key, history, presence, presence stats, info, a server disconnect). The
// series that traffic produces must be there with Centrifugo's labels. When the Centrifugo binary is installed the
// same traffic runs through it, on the memory engine and on a real redis-server, and every family and label set it
// shows (fresh: every series) must be in Gyre's scrape too, but for the documented absences below.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, callApi, ClientPool, collect } from '../harness/clients.js';
import { findCentrifugo, startCentrifugo } from '../harness/centrifugo.js';
import { mergeConfig, startGyre } from '../harness/gyre.js';
import { scrape, total, type Scrape } from '../harness/prom-text.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';

/**
 * Centrifugo 6.9.1 families Gyre does not export, each with the reason (docs/metrics.md, "Not exported"). An entry
 * that Gyre starts exporting fails the test too, so this list cannot go stale.
 */
const ABSENT_IN_GYRE: Record<string, string> = {
  centrifugo_map_broker_redis_pub_sub_dropped_messages: 'Gyre has no Redis map broker (map_broker.type memory only)',
};

/**
 * Label values Gyre knowingly sets otherwise than Centrifugo 6.9.1 after the same traffic, each with the reason
 * (docs/metrics.md). Any other value only one of them shows fails the test.
 */
const KNOWN_VALUE_DIFFERENCES: Record<string, string> = {
  'centrifugo_transport_messages_sent{frame_type}': 'Gyre counts WebSocket messages as text/binary, Centrifugo each reply and push by its type',
  'centrifugo_transport_messages_sent_size{frame_type}': 'as centrifugo_transport_messages_sent',
  'centrifugo_transport_messages_received{frame_type}': 'Gyre counts WebSocket messages as text/binary, Centrifugo each command by its type',
  'centrifugo_transport_messages_received_size{frame_type}': 'as centrifugo_transport_messages_received',
};

/** centrifugo_* families only Gyre has (centrifuge defines it; Centrifugo 6.9.1 does not register it). */
const ONLY_IN_GYRE = new Set(['centrifugo_client_subscriptions_accepted']);

const CONFIG = mergeConfig(baseConfig(), { prometheus: { enabled: true } });
{
  const channel = CONFIG['channel'] as { namespaces: unknown[] };
  channel.namespaces.push({ name: 'tf', allow_tags_filter: true, allow_subscribe_for_client: true });
}

interface Target {
  url: string;
  apiUrl: string;
  baseUrl: string;
}

/** The traffic both servers get. Resolves once the server disconnect reached the client. */
async function traffic(t: Target, user: string): Promise<void> {
  const pool = new ClientPool();
  try {
    const cent = new CentClient({ url: t.apiUrl, apiKey: API_KEY });
    const { client } = pool.json(t.url, { token: await connToken({ sub: user, expIn: 3600 }) });
    const room = client.newSubscription(`pres:${user}`);
    const goals = client.newSubscription(`tf:${user}`, { tagsFilter: { key: 'kind', cmp: 'eq', val: 'goal' } });
    const subscribed = collect<SubscribedContext>(room, 'subscribed');
    const goalsSubscribed = collect<SubscribedContext>(goals, 'subscribed');
    const roomPubs = collect<PublicationContext>(room, 'publication');
    const goalPubs = collect<PublicationContext>(goals, 'publication');
    room.subscribe();
    goals.subscribe();
    client.connect();
    await waitFor(() => subscribed.length === 1 && goalsSubscribed.length === 1, { what: 'both subscriptions' });
    await room.publish({ from: 'client' });
    // The same idempotency key twice: the second publish is suppressed by the broker.
    for (let i = 0; i < 2; i++) {
      const r = await callApi(t.apiUrl, 'publish', { channel: `pres:${user}`, data: { n: 1 }, idempotency_key: `k-${user}` });
      assert.equal(r.status, 200, r.text);
    }
    // One publication the tags filter lets through, one it drops.
    await cent.publish({ channel: `tf:${user}`, data: { n: 2 }, tags: { kind: 'card' } });
    await cent.publish({ channel: `tf:${user}`, data: { n: 3 }, tags: { kind: 'goal' } });
    await waitFor(() => roomPubs.length === 2 && goalPubs.length === 1, { what: 'publications' });
    assert.deepEqual(goalPubs[0]?.data, { n: 3 });
    await room.history({ limit: 10 });
    await room.presence();
    await room.presenceStats();
    await cent.getInfo({});
    // A refused subscribe (103 in a namespace without permissions): a reply error.
    const refused = client.newSubscription(`closed:${user}`);
    const refusedGone = collect<unknown>(refused, 'unsubscribed');
    refused.subscribe();
    await waitFor(() => refusedGone.length === 1, { what: 'refused subscribe' });
    // A recovery that returns two publications (centrifugo_client_recover, node actions history_recover).
    for (let i = 0; i < 2; i++) await cent.publish({ channel: `rec:${user}`, data: { i } });
    const top = await callApi(t.apiUrl, 'history', { channel: `rec:${user}`, limit: 0 });
    const epoch = (JSON.parse(top.text) as { result: { epoch: string } }).result.epoch;
    const rec = client.newSubscription(`rec:${user}`, { since: { offset: 0, epoch } });
    const recovered = collect<SubscribedContext>(rec, 'subscribed');
    rec.subscribe();
    await waitFor(() => recovered.length === 1, { what: 'recovering subscribe' });
    assert.equal(recovered[0]!.recovered, true);
    // A server-side unsubscribe (centrifugo_client_num_server_unsubscribes).
    const recGone = collect<unknown>(rec, 'unsubscribed');
    await cent.unsubscribe({ user, channel: `rec:${user}` });
    await waitFor(() => recGone.length === 1, { what: 'server unsubscribe' });
    const away: unknown[] = [];
    client.on('connecting', (c) => away.push(c));
    client.on('disconnected', (c) => away.push(c));
    await cent.disconnect({ user });
    await waitFor(() => away.length > 0, { what: 'server disconnect' });
  } finally {
    pool.closeAll();
  }
}

/** The distinct client_name / client_version / accept_protocol values of a family's samples. */
function clientLabelValues(s: Scrape, family: string): string[] {
  const seen = new Set<string>();
  for (const x of s.samples) {
    if (x.name !== family) continue;
    seen.add(['client_name', 'client_version', 'accept_protocol'].map((k) => `${k}=${x.labels[k] ?? '(none)'}`).join(' '));
  }
  return [...seen].sort();
}

/** Family of a sample name: the name itself, or the histogram/summary it is a `_bucket`/`_sum`/`_count` of. */
function familyOf(s: Scrape, name: string): string {
  if (s.types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix) && s.types.has(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length);
  }
  return name;
}

/** Every centrifugo_* family that has samples, with each label-name set seen on it ("type{a,b}"). */
function shapes(s: Scrape): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const x of s.samples) {
    const family = familyOf(s, x.name);
    if (!family.startsWith('centrifugo_')) continue;
    const labels = Object.keys(x.labels).filter((k) => k !== 'le' && k !== 'quantile').sort();
    const key = `${s.types.get(family) ?? 'untyped'}{${labels.join(',')}}`;
    const set = out.get(family) ?? new Set<string>();
    set.add(key);
    out.set(family, set);
  }
  return out;
}

/** Every centrifugo_* series (sample name + label values, le/quantile kept apart), for the fresh comparison. */
function series(s: Scrape): Set<string> {
  const out = new Set<string>();
  for (const x of s.samples) {
    const family = familyOf(s, x.name);
    if (!family.startsWith('centrifugo_') || family === 'centrifugo_node_build') continue;
    const labels = Object.entries(x.labels)
      .map(([k, v]) => `${k}=${k === 'le' && v !== '+Inf' ? Number(v) : v}`)
      .sort();
    out.add(`${x.name}{${labels.join(',')}}`);
  }
  return out;
}

/** Per centrifugo_* family and label name, the values its series take (le and quantile left out). */
function labelValues(s: Scrape): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const x of s.samples) {
    const family = familyOf(s, x.name);
    if (!family.startsWith('centrifugo_') || family === 'centrifugo_node_build') continue;
    for (const [k, v] of Object.entries(x.labels)) {
      if (k === 'le' || k === 'quantile') continue;
      const key = `${family}{${k}}`;
      const set = out.get(key) ?? new Set<string>();
      set.add(v);
      out.set(key, set);
    }
  }
  return out;
}

/**
 * The label values of every family both scrapes have that only one of them shows, but for KNOWN_VALUE_DIFFERENCES
 * (an entry that no longer differs is reported too, so the list cannot go stale).
 */
function valueDiff(what: string, gyre: Scrape, cf: Scrape): string[] {
  const problems: string[] = [];
  const g = labelValues(gyre);
  const c = labelValues(cf);
  for (const [key, cv] of c) {
    const gv = g.get(key);
    if (gv === undefined) continue;
    const known = KNOWN_VALUE_DIFFERENCES[key] !== undefined;
    const onlyC = [...cv].filter((v) => !gv.has(v)).sort();
    const onlyG = [...gv].filter((v) => !cv.has(v)).sort();
    const differs = onlyC.length > 0 || onlyG.length > 0;
    if (differs && !known) problems.push(`${what}: ${key} Centrifugo only ${JSON.stringify(onlyC)}, Gyre only ${JSON.stringify(onlyG)}`);
    if (!differs && known) problems.push(`${what}: ${key} is listed as differing but has the same values`);
  }
  return problems;
}

/** What differs between a Gyre scrape and a Centrifugo scrape of the same traffic (empty: nothing). */
function compare(what: string, gyre: Scrape, cf: Scrape, fresh: boolean): string[] {
  const problems: string[] = [];
  const g = shapes(gyre);
  const c = shapes(cf);
  for (const [family, cfShapes] of c) {
    const absent = ABSENT_IN_GYRE[family] !== undefined;
    const gShapes = g.get(family);
    if (gShapes === undefined) {
      if (!absent) problems.push(`${what}: ${family} ${[...cfShapes].join(' ')} only in Centrifugo`);
      continue;
    }
    if (absent) problems.push(`${what}: ${family} is listed as absent in Gyre but Gyre exports it`);
    for (const shape of cfShapes) if (!gShapes.has(shape)) problems.push(`${what}: ${family} ${shape} in Centrifugo, Gyre has ${[...gShapes].join(' ')}`);
    for (const shape of gShapes) if (!cfShapes.has(shape)) problems.push(`${what}: ${family} ${shape} in Gyre only (Centrifugo ${[...cfShapes].join(' ')})`);
  }
  for (const family of g.keys()) {
    if (!c.has(family) && !ONLY_IN_GYRE.has(family) && !fresh) problems.push(`${what}: ${family} only in Gyre`);
  }
  if (fresh) {
    const gs = series(gyre);
    for (const x of series(cf)) {
      if (!gs.has(x) && ABSENT_IN_GYRE[familyOf(cf, x.slice(0, x.indexOf('{')))] === undefined) problems.push(`${what}: fresh series ${x} only in Centrifugo`);
    }
  }
  return problems;
}

const redisUp = await redisAvailable();

describe('metrics: every centrifugo_* series', () => {
  let redis: RedisServer | undefined;
  const runs = new Map<string, { fresh: Scrape; after: Scrape }>();

  async function run(label: string, start: () => Promise<Target & { stop(): Promise<unknown> }>): Promise<{ fresh: Scrape; after: Scrape }> {
    const server = await start();
    try {
      const fresh = await scrape(`${server.baseUrl}/metrics`);
      await traffic(server, `mn-${label.replace(/\W/g, '')}`);
      // The gauges settle once the disconnected client is gone from the hub.
      await waitFor(async () => total(await scrape(`${server.baseUrl}/metrics`), 'centrifugo_node_num_clients') === 0, { what: `${label}: client gone` });
      // Centrifugo leaves a channel's broker subscription about 1 s after its last subscriber; both count it then.
      await waitFor(async () => total(await scrape(`${server.baseUrl}/metrics`), 'centrifugo_node_action_count', { action: 'broker_unsubscribe' }) >= 3, {
        what: `${label}: broker unsubscribes`,
      });
      return { fresh, after: await scrape(`${server.baseUrl}/metrics`) };
    } finally {
      await server.stop();
    }
  }

  function engineConfig(engine: string, prefix: string): Record<string, unknown> {
    if (engine === 'memory' || redis === undefined) return CONFIG;
    return mergeConfig(CONFIG, { engine: { type: 'redis', redis: { address: [redis.address], prefix } } });
  }

  before(async () => {
    if (redisUp) redis = await startRedis();
    runs.set('gyre memory', await run('gyre memory', () => startGyre(engineConfig('memory', 'g'))));
  });
  after(async () => {
    await redis?.stop();
  });

  it('a fresh node lists the command-duration histogram of every client method at 0', () => {
    const { fresh } = runs.get('gyre memory')!;
    for (const method of ['connect', 'subscribe', 'unsubscribe', 'publish', 'presence', 'presence_stats', 'history', 'send', 'rpc', 'refresh', 'sub_refresh', 'unknown']) {
      const count = fresh.samples.filter(
        (x) => x.name === 'centrifugo_client_command_duration_seconds_histogram_count' && x.labels['method'] === method && x.labels['channel_namespace'] === '',
      );
      assert.equal(count.length, 1, method);
      assert.equal(count[0]!.value, 0, method);
    }
  });

  it('traffic produces the tags-filter, suppressed-publish and API summary series with their labels', () => {
    const { fresh, after: s } = runs.get('gyre memory')!;
    assert.equal(total(fresh, 'centrifugo_node_tags_filter_dropped_publications'), 0);
    assert.equal(total(s, 'centrifugo_node_tags_filter_dropped_publications', { channel_namespace: '' }), 1);
    assert.equal(total(s, 'centrifugo_broker_publish_suppressed_count', { reason: 'idempotency', channel_namespace: '' }), 1);
    assert.equal(total(s, 'centrifugo_client_recover', { recovered: 'yes', has_recovered_publications: 'yes', channel_namespace: '' }), 1);
    assert.equal(total(s, 'centrifugo_client_num_server_unsubscribes', { channel_namespace: '' }), 1);
    assert.equal(total(s, 'centrifugo_client_num_reply_errors', { method: 'subscribe', code: '103', channel_namespace: '' }), 1);
    // Six API publishes (two with the repeated key, two before the recovery) over HTTP, each in the summary and the histogram.
    assert.equal(total(s, 'centrifugo_api_command_duration_seconds_count', { protocol: 'http', method: 'publish' }), 6);
    assert.equal(total(s, 'centrifugo_api_command_duration_seconds_histogram_count', { protocol: 'http', method: 'publish' }), 6);
    const quantiles = s.samples.filter((x) => x.name === 'centrifugo_api_command_duration_seconds' && x.labels['method'] === 'publish');
    assert.deepEqual(quantiles.map((x) => x.labels['quantile']).sort(), ['0.5', '0.99', '0.999']);
    assert.equal(s.types.get('centrifugo_api_command_duration_seconds'), 'summary');
    // Every node message series carries channel_namespace, as in Centrifugo.
    const messages = s.samples.filter((x) => x.name === 'centrifugo_node_messages_received_count' || x.name === 'centrifugo_node_messages_sent_count');
    assert.ok(messages.length > 0);
    for (const x of messages) assert.deepEqual(Object.keys(x.labels).sort(), ['channel_namespace', 'type'], `${x.name} ${JSON.stringify(x.labels)}`);
  });

  it('every centrifugo_* series has channel_namespace "" though the traffic used four namespaces (as Centrifugo 6.9.1)', () => {
    const { after: s } = runs.get('gyre memory')!;
    const labelled = s.samples.filter((x) => x.name.startsWith('centrifugo_') && x.labels['channel_namespace'] !== undefined);
    assert.ok(labelled.length > 100, `${labelled.length} series with channel_namespace`);
    const named = labelled.filter((x) => x.labels['channel_namespace'] !== '').map((x) => `${x.name}${JSON.stringify(x.labels)}`);
    assert.deepEqual(named, []);
    // Gyre's own per-namespace view keeps them.
    const deliveries = new Set(s.samples.filter((x) => x.name === 'gyre_node_deliveries_total').map((x) => x.labels['channel_namespace']));
    for (const ns of ['pres', 'tf']) assert.ok(deliveries.has(ns), `gyre_node_deliveries_total{channel_namespace=${ns}}`);
  });

  for (const engine of ['memory', 'redis']) {
    it(`matches real Centrifugo on the ${engine} engine: families, label sets, fresh series`, async (t) => {
      const binary = findCentrifugo();
      if (binary === undefined) return t.skip('centrifugo binary not installed (scripts/install-centrifugo.sh)');
      if (engine === 'redis' && redis === undefined) return t.skip('redis-server not installed');
      const gyreRun = engine === 'memory' ? runs.get('gyre memory')! : await run('gyre redis', () => startGyre(engineConfig(engine, 'g')));
      const cfRun = await run(`centrifugo ${engine}`, () => startCentrifugo(engineConfig(engine, 'c'), { binary }));
      const problems = [
        ...compare(`${engine} fresh`, gyreRun.fresh, cfRun.fresh, true),
        ...compare(`${engine} after traffic`, gyreRun.after, cfRun.after, false),
      ];
      assert.deepEqual(problems, []);
      // Every label value of the families both have, after the traffic (channel_namespace "" everywhere).
      assert.deepEqual(valueDiff(`${engine} values`, gyreRun.after, cfRun.after), []);
      // The client labels' values too: a client's own name and version never become label values.
      for (const family of ['centrifugo_client_connections_accepted', 'centrifugo_client_connections_inflight']) {
        assert.deepEqual(clientLabelValues(gyreRun.after, family), clientLabelValues(cfRun.after, family), family);
      }
    });
  }
});
