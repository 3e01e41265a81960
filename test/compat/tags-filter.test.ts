// Publication tags filtering (docs/tags-filter.md) with centrifuge-js's `tagsFilter` option: live publications and
// recovered ones pass the filter or are skipped (the stream position still advances), a namespace without
// allow_tags_filter and a malformed filter get 107. The same scenario runs against real Centrifugo 6.9.1 when it
// is installed and must give the same results.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Centrifuge, FilterNode, PublicationContext, SubscribedContext } from 'centrifuge';
import { CentClient } from 'cent.js';
import { API_KEY, ClientPool, collect } from '../harness/clients.js';
import { findCentrifugo, startCentrifugo } from '../harness/centrifugo.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

function tagsConfig(): Record<string, unknown> {
  const base = baseConfig();
  const channel = base['channel'] as { namespaces: unknown[] };
  return mergeConfig(base, {
    channel: {
      namespaces: [
        ...channel.namespaces,
        { name: 'tf', allow_tags_filter: true, allow_subscribe_for_client: true },
        { name: 'tfr', allow_tags_filter: true, history_size: 50, history_ttl: '300s', force_recovery: true, allow_subscribe_for_client: true },
        { name: 'tfc', allow_tags_filter: true, history_size: 50, history_ttl: '300s', force_recovery: true, force_recovery_mode: 'cache', auto_cache_recover: true, allow_subscribe_for_client: true },
        { name: 'notf', allow_subscribe_for_client: true },
      ],
    },
  });
}

const FILTER: FilterNode = {
  op: 'and',
  nodes: [
    { key: 'kind', cmp: 'in', vals: ['goal', 'card'] },
    { op: 'not', nodes: [{ key: 'team', cmp: 'eq', val: 'away' }] },
    { op: 'or', nodes: [{ key: 'minute', cmp: 'gte', val: '10.5' }, { key: 'vip', cmp: 'ex' }] },
  ],
};

/** Publications and their tags; `n` marks which ones pass FILTER. */
const PUBS: Array<{ n: number; tags: Record<string, string>; pass: boolean }> = [
  { n: 1, tags: { kind: 'goal', team: 'home', minute: '12' }, pass: true },
  { n: 2, tags: { kind: 'goal', team: 'away', minute: '30' }, pass: false },
  { n: 3, tags: { kind: 'foul', team: 'home', minute: '40' }, pass: false },
  { n: 4, tags: { kind: 'card', minute: '9.99' }, pass: false },
  { n: 5, tags: { kind: 'card', minute: '9.99', vip: '' }, pass: true },
  { n: 6, tags: { kind: 'goal', minute: '10.50' }, pass: true },
  { n: 7, tags: {}, pass: false },
  { n: 8, tags: { kind: 'card', team: 'home', minute: 'late' }, pass: false },
];

interface Outcome {
  live: number[];
  /** Stream offsets of the recovering subscription's publications: filtered ones leave gaps. */
  offsets: number[];
  recovered: number[];
  afterRecovery: number[];
  cache: number[];
  notAllowed: number | undefined;
  malformed: number | undefined;
}

describe('compat: publication tags filter', () => {
  let gyre: GyreProcess;
  const pool = new ClientPool();
  before(async () => {
    gyre = await startGyre(tagsConfig());
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  async function scenario(url: string, apiUrl: string, tag: string): Promise<Outcome> {
    const api = new CentClient({ url: apiUrl, apiKey: API_KEY });
    const publish = async (channel: string, list: typeof PUBS): Promise<void> => {
      for (const p of list) await api.publish({ channel, data: { n: p.n }, tags: p.tags });
    };
    const token = await connToken({ sub: `tf-${tag}`, expIn: 3600 });
    // centrifuge-js awaits getData() before every (re)connect: the gate holds the client away while it is closed.
    let gate: Promise<void> = Promise.resolve();
    let openGate = (): void => undefined;
    const { client, rec } = pool.json(url, {
      token,
      getData: async () => {
        await gate;
        return null;
      },
    });
    const nums = (ps: PublicationContext[]): number[] => ps.map((p) => (p.data as { n: number }).n);
    const subscribe = (c: Centrifuge, channel: string, tagsFilter: FilterNode) => {
      const sub = c.newSubscription(channel, { tagsFilter });
      const pubs = collect<PublicationContext>(sub, 'publication');
      // Settles on the first outcome: undefined once subscribed, the error code when the subscribe is refused.
      const result = new Promise<number | undefined>((resolve) => {
        sub.once('subscribed', () => resolve(undefined));
        sub.once('unsubscribed', (e) => resolve(e.code)); // a non-temporary subscribe error unsubscribes
      });
      sub.subscribe();
      return { sub, pubs, result };
    };
    client.connect();
    await nextEvent(client, 'connected');

    // Live: only the matching publications; the last one (n 9) marks the end.
    const live = subscribe(client, `tf:live-${tag}`, FILTER);
    assert.equal(await live.result, undefined);
    await publish(`tf:live-${tag}`, [...PUBS, { n: 9, tags: { kind: 'goal', vip: 'y' }, pass: true }]);
    await waitFor(() => live.pubs.some((p) => (p.data as { n: number }).n === 9), { what: 'last live publication' });

    // Recovery: two live, a cut, the rest while away, then one live after the recovery.
    const rchan = `tfr:feed-${tag}`;
    const r = subscribe(client, rchan, FILTER);
    await r.result;
    await publish(rchan, PUBS.slice(0, 2));
    await waitFor(() => r.pubs.length === 1, { what: 'first filtered live publication' });
    gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const connecting = nextEvent(client, 'connecting');
    const resubscribed = nextEvent<SubscribedContext>(r.sub, 'subscribed', 15_000);
    rec.sockets[rec.sockets.length - 1]?.terminate();
    await connecting;
    await waitFor(async () => !(rchan in (await api.getChannels({ pattern: rchan })).channels), { what: 'server to drop the subscriber' });
    await publish(rchan, PUBS.slice(2));
    openGate();
    await resubscribed;
    const recoveredCount = r.pubs.length;
    await publish(rchan, [{ n: 10, tags: { kind: 'goal', minute: '99' }, pass: true }]);
    await waitFor(() => nums(r.pubs).includes(10), { what: 'live publication after recovery' });

    // Cache recovery: the newest publication that passes the filter.
    const cchan = `tfc:feed-${tag}`;
    await publish(cchan, PUBS);
    const c2 = pool.json(url, { token }).client;
    c2.connect();
    const cache = subscribe(c2, cchan, FILTER);
    await cache.result;
    await waitFor(() => cache.pubs.length >= 1, { what: 'cache publication' });

    const notAllowed = await subscribe(client, 'notf:x', FILTER).result;
    const malformed = await subscribe(client, `tf:bad-${tag}`, { key: 'kind', cmp: 'eq' }).result;
    const offsets = r.pubs.map((p) => Number(p.offset));
    return {
      live: nums(live.pubs),
      offsets,
      recovered: nums(r.pubs).slice(1, recoveredCount),
      afterRecovery: nums(r.pubs).slice(recoveredCount),
      cache: nums(cache.pubs),
      notAllowed,
      malformed,
    };
  }

  let gyreOutcome: Outcome | undefined;

  it('live, recovered and cache publications pass the filter; 107 where not allowed or malformed', async () => {
    const o = await scenario(gyre.url, gyre.apiUrl, 'g');
    gyreOutcome = o;
    const passing = PUBS.filter((p) => p.pass).map((p) => p.n);
    assert.deepEqual(o.live, [...passing, 9]);
    assert.deepEqual(o.offsets, [1, 5, 6, 9]);
    assert.deepEqual(o.recovered, passing.filter((n) => n > 2));
    assert.deepEqual(o.afterRecovery, [10]);
    assert.deepEqual(o.cache, [6]);
    assert.equal(o.notAllowed, 107);
    assert.equal(o.malformed, 107);
  });

  it('real Centrifugo 6.9.1 gives the same results', async (t) => {
    if (findCentrifugo() === undefined) {
      t.skip('centrifugo binary not installed (scripts/install-centrifugo.sh)');
      return;
    }
    assert.ok(gyreOutcome !== undefined, 'the Gyre scenario ran first');
    const centrifugo = await startCentrifugo(tagsConfig());
    try {
      assert.deepEqual(await scenario(centrifugo.url, centrifugo.apiUrl, 'c'), gyreOutcome);
    } finally {
      await centrifugo.stop();
    }
  });
});
