// Wire-trace scenarios, part 1: the shared config and the client-protocol scripts (connect, subscribe, publish,
// history, presence, join/leave, recovery, error replies). Run identically against Centrifugo and Gyre by
// wire-trace.test.ts; every script waits for an exact number of messages so traces are deterministic.
import { connToken, subToken, TEST_HMAC_SECRET, type ConnClaims } from '../harness/tokens.js';
import type { WireDriver } from '../harness/wire-driver.js';

export const WIRE_API_KEY = 'wire-trace-api-key';

export function wireConfig(): Record<string, unknown> {
  return {
    log: { level: 'error' },
    client: {
      token: { hmac_secret_key: TEST_HMAC_SECRET },
      channel_limit: 4,
      user_connection_limit: 2,
    },
    http_api: { key: WIRE_API_KEY },
    channel: {
      namespaces: [
        {
          name: 'pub',
          allow_subscribe_for_client: true,
          allow_publish_for_client: true,
          allow_presence_for_client: true,
          allow_history_for_client: true,
          allow_user_limited_channels: true,
        },
        { name: 'closed' },
        {
          name: 'pres',
          presence: true,
          join_leave: true,
          force_push_join_leave: true,
          history_size: 10,
          history_ttl: '300s',
          allow_subscribe_for_client: true,
          allow_publish_for_subscriber: true,
          allow_presence_for_subscriber: true,
          allow_history_for_subscriber: true,
        },
        {
          name: 'rec',
          history_size: 3,
          history_ttl: '300s',
          force_recovery: true,
          allow_subscribe_for_client: true,
          allow_publish_for_subscriber: true,
          allow_history_for_client: true,
        },
        { name: 'srv', history_size: 10, history_ttl: '300s', force_recovery: true, presence: true },
      ],
    },
  };
}

export type Scenario = (d: WireDriver) => Promise<void>;

const info = (name: string): Record<string, unknown> => ({ name });

/** Opens `conn` and connects it as `user` (connect reply recorded). */
export async function connect(
  d: WireDriver,
  conn: string,
  user: string,
  extra: Partial<ConnClaims> = {},
): Promise<void> {
  await d.open(conn);
  d.send(conn, { id: 1, connect: { token: await connToken({ sub: user, info: info(user), ...extra }), name: 'wire' } });
  await d.recv(conn, 1);
}

export const clientScenarios: Record<string, Scenario> = {
  'connect-subscribe-one-frame': async (d) => {
    await d.open('a');
    const token = await connToken({ sub: 'u-one', expIn: 3600 });
    d.send('a', { id: 1, connect: { token, name: 'wire' } }, { id: 2, subscribe: { channel: 'pub:one' } });
    await d.recv('a', 2);
    d.send('a', { id: 3, subscribe: { channel: 'pres:one' } }, { id: 4, subscribe: { channel: 'rec:one' } });
    await d.recv('a', 3); // two replies + own join push
    d.send('a', { id: 5, refresh: { token: await connToken({ sub: 'u-one', expIn: 7200 }) } });
    await d.recv('a', 1);
    d.send('a', { id: 6, unsubscribe: { channel: 'pub:one' } }, { id: 7, unsubscribe: { channel: 'pub:never' } });
    await d.recv('a', 2);
  },

  publish: async (d) => {
    await connect(d, 'a', 'u-pa');
    await connect(d, 'b', 'u-pb');
    d.send('a', { id: 2, subscribe: { channel: 'pub:p' } });
    await d.recv('a', 1);
    d.send('b', { id: 2, subscribe: { channel: 'pub:p' } });
    await d.recv('b', 1);
    d.send('a', { id: 3, publish: { channel: 'pub:p', data: { text: 'from a' } } });
    await d.recv('a', 2); // reply + own publication (order between them is what we check)
    await d.recv('b', 1);
    d.send('b', { id: 3, publish: { channel: 'pub:other', data: [1, 2, 3] } });
    await d.recv('b', 1);
    await d.api('publish', { channel: 'pub:p', data: { text: 'from api' }, tags: { k: 'v' } });
    await d.recv('a', 1);
    await d.recv('b', 1);
    await d.api('broadcast', { channels: ['pub:p', 'pres:none'], data: 'str' });
    await d.recv('a', 1);
    await d.recv('b', 1);
    await d.api('publish', { channel: 'pub:p', b64data: 'eyJiNjQiOnRydWV9' });
    await d.recv('a', 1);
    await d.recv('b', 1);
  },

  history: async (d) => {
    for (let i = 1; i <= 5; i++) await d.api('publish', { channel: 'rec:h', data: { n: i } });
    await connect(d, 'a', 'u-h');
    const base = { channel: 'rec:h' };
    d.send('a', { id: 2, history: { ...base, limit: 2 } });
    const [r] = await d.recv('a', 1);
    const epoch = epochOf(r, 'history');
    d.send('a', { id: 3, history: { ...base, limit: -1 } });
    d.send('a', { id: 4, history: { ...base } });
    d.send('a', { id: 5, history: { ...base, limit: 2, since: { offset: 3, epoch } } });
    d.send('a', { id: 6, history: { ...base, limit: 10, since: { offset: 4, epoch }, reverse: true } });
    d.send('a', { id: 7, history: { ...base, limit: 2, reverse: true } });
    d.send('a', { id: 8, history: { ...base, limit: 1, since: { offset: 1, epoch: 'wrong-epoch' } } });
    d.send('a', { id: 9, history: { ...base, limit: 1000 } });
    d.send('a', { id: 10, history: { channel: 'rec:empty', limit: 5 } });
    await d.recv('a', 8);
    await d.api('history', { ...base, limit: 2, since: { offset: 1, epoch }, reverse: false });
    await d.api('history', { ...base, limit: 2, reverse: true });
    await d.api('history', { ...base, since: { offset: 1, epoch: 'wrong-epoch' }, limit: 1 });
    await d.api('history_remove', base);
    await d.api('history', { ...base, limit: -1 });
  },

  presence: async (d) => {
    await connect(d, 'a', 'u-ra');
    d.send('a', { id: 2, subscribe: { channel: 'pres:room' } });
    await d.recv('a', 2); // reply + own join (force_push_join_leave)
    await connect(d, 'b', 'u-rb');
    d.send('b', { id: 2, subscribe: { channel: 'pres:room', join_leave: true } });
    await d.recv('b', 2);
    await d.recv('a', 1); // join of b
    d.send('a', { id: 3, presence: { channel: 'pres:room' } });
    await d.recv('a', 1);
    d.send('a', { id: 4, presence_stats: { channel: 'pres:room' } });
    await d.recv('a', 1);
    d.send('b', { id: 3, publish: { channel: 'pres:room', data: { hi: 1 } } });
    await d.recv('b', 2);
    await d.recv('a', 1);
    await d.api('publish', { channel: 'pres:room', data: { second: true } });
    await d.recv('a', 1); // offset 2: no epoch any more
    await d.recv('b', 1);
    await d.api('presence', { channel: 'pres:room' });
    await d.api('presence_stats', { channel: 'pres:room' });
    await d.api('channels', {});
    await d.api('channels', { pattern: 'pres:*' });
    d.send('b', { id: 4, unsubscribe: { channel: 'pres:room' } });
    await d.recv('b', 1);
    await d.recv('a', 1); // leave of b
    d.send('b', { id: 5, subscribe: { channel: 'pres:room' } });
    await d.recv('b', 2);
    await d.recv('a', 1);
    await d.api('disconnect', { user: 'u-rb' });
    await d.closed('b');
    await d.recv('a', 1); // leave of b on disconnect
    d.send('a', { id: 5, presence_stats: { channel: 'pres:room' } });
    await d.recv('a', 1);
  },

  recovery: async (d) => {
    await connect(d, 'a', 'u-rec');
    d.send('a', { id: 2, subscribe: { channel: 'rec:r' } }, { id: 3, subscribe: { channel: 'rec:gap' } });
    const subs = await d.recv('a', 2);
    const epoch = epochOf(subs[0], 'subscribe');
    const gapEpoch = epochOf(subs[1], 'subscribe');
    d.send('a', { id: 4, publish: { channel: 'rec:r', data: { n: 1 } } });
    await d.recv('a', 2);
    await d.finish();
    await d.api('publish', { channel: 'rec:r', data: { n: 2 } });
    await d.api('publish', { channel: 'rec:r', data: { n: 3 } });
    for (let i = 1; i <= 5; i++) await d.api('publish', { channel: 'rec:gap', data: { g: i } });
    await connect(d, 'b', 'u-rec');
    d.send(
      'b',
      { id: 2, subscribe: { channel: 'rec:r', recover: true, offset: 1, epoch, flag: 1 } },
      { id: 3, subscribe: { channel: 'rec:gap', recover: true, offset: 0, epoch: gapEpoch } },
    );
    await d.recv('b', 2);
    d.send('b', { id: 4, unsubscribe: { channel: 'rec:gap' } });
    await d.recv('b', 1);
    d.send('b', { id: 5, subscribe: { channel: 'rec:gap', recover: true, offset: 1, epoch: gapEpoch, flag: 3 } });
    await d.recv('b', 1);
    d.send('b', { id: 6, subscribe: { channel: 'rec:gap', recover: true, offset: 5, epoch: 'other', flag: 2 } });
    await d.recv('b', 1);
    d.send('b', { id: 7, subscribe: { channel: 'rec:fresh', recover: true, offset: 0, epoch: '' } });
    await d.recv('b', 1);
    d.send('b', { id: 8, subscribe: { channel: 'pub:x', recover: true, offset: 3, epoch: 'e' } });
    await d.recv('b', 1);
  },

  'error-replies': async (d) => {
    await connect(d, 'a', 'u-err');
    d.send('a', { id: 2, subscribe: { channel: 'nope:x' } });
    d.send('a', { id: 3, subscribe: { channel: 'closed:x' } });
    d.send('a', { id: 4, subscribe: { channel: `pub:${'x'.repeat(300)}` } });
    d.send('a', { id: 5, subscribe: { channel: 'pub:e1' } }, { id: 6, subscribe: { channel: 'pub:e1' } });
    d.send('a', { id: 7, subscribe: { channel: 'pub:e2' } }, { id: 8, subscribe: { channel: 'pub:e3' } });
    d.send('a', { id: 9, subscribe: { channel: 'pub:e4' } }, { id: 10, subscribe: { channel: 'pub:e5' } });
    d.send('a', { id: 11, publish: { channel: 'pub:e1' } });
    d.send('a', { id: 12, publish: { channel: 'closed:x', data: 1 } });
    d.send('a', { id: 13, rpc: { method: 'm', data: {} } });
    d.send('a', { id: 14, presence: { channel: 'pub:e1' } });
    d.send('a', { id: 15, presence_stats: { channel: 'pub:e1' } });
    d.send('a', { id: 16, history: { channel: 'pub:e1', limit: 1 } });
    d.send('a', { id: 17, presence: { channel: 'closed:x' } });
    d.send('a', { id: 18, history: { channel: 'nope:x' } });
    d.send('a', { id: 19, sub_refresh: { channel: 'pub:e9', token: 'x' } });
    d.send('a', { id: 20, publish: { channel: 'nope:x', data: 1 } });
    await d.recv('a', 19);
    await d.open('b');
    d.send('b', { id: 1, connect: { token: await connToken({ sub: 'u-exp', expIn: -10 }) } });
    await d.recv('b', 1);
    await d.open('c');
    const past = Math.floor(Date.now() / 1000) - 60;
    d.send('c', { id: 1, connect: { token: await connToken({ sub: 'u-exp2', expire_at: past }) } });
    await d.recv('c', 1);
  },
};

export const tokenScenarios: Record<string, Scenario> = {
  'subscription-tokens': async (d) => {
    await connect(d, 'a', 'u-tok', { expIn: 3600 });
    const sub = (channel: string, expIn = 600, extra: Record<string, unknown> = {}): Promise<string> =>
      subToken({ sub: 'u-tok', channel, expIn, info: { role: 'r' }, extra });
    d.send('a', { id: 2, subscribe: { channel: '$pub:secret' } });
    d.send('a', { id: 3, subscribe: { channel: '$pub:secret', token: await sub('$pub:secret') } });
    d.send('a', { id: 4, subscribe: { channel: 'closed:tok', token: await sub('closed:tok', -10) } });
    d.send('a', { id: 5, subscribe: { channel: 'pub:room#u-tok' } });
    d.send('a', { id: 6, subscribe: { channel: 'pub:room#other' } });
    await d.recv('a', 5);
    d.send('a', { id: 7, publish: { channel: '$pub:secret', data: { s: 1 } } });
    await d.recv('a', 2);
    d.send('a', { id: 8, sub_refresh: { channel: '$pub:secret', token: await sub('$pub:secret', 1200) } });
    d.send('a', { id: 9, sub_refresh: { channel: '$pub:secret', token: await sub('$pub:other', 1200) } });
    await d.recv('a', 1);
    await d.closed('a');
    await connect(d, 'b', 'u-tok2');
    d.send('b', { id: 2, subscribe: { channel: 'closed:tok', token: await sub('closed:tok') } });
    await d.closed('b');
    await connect(d, 'c', 'u-tok');
    d.send('c', { id: 2, subscribe: { channel: 'closed:tok', token: await sub('closed:tok') } });
    d.send('c', { id: 3, subscribe: { channel: 'closed:tok2', token: await sub('closed:other') } });
    await d.recv('c', 1);
    await d.closed('c');
    await d.open('anon');
    d.send('anon', { id: 1, connect: {} });
    await d.recv('anon', 1);
    await d.closed('anon', 500);
  },
};

export const optionScenarios: Record<string, Scenario> = {
  'subscribe-options': async (d) => {
    await connect(d, 'a', 'u-opt');
    d.send(
      'a',
      { id: 2, subscribe: { channel: 'rec:o1', positioned: true, recoverable: true, join_leave: true, flag: 1 } },
      { id: 3, subscribe: { channel: 'pres:o2', positioned: true, recoverable: true, join_leave: true } },
    );
    await d.recv('a', 3);
    d.send('a', { id: 4, subscribe: { channel: 'pub:o3', delta: 'fossil' } });
    d.send('a', { id: 5, subscribe: { channel: 'pub:o4', tf: { op: 'eq', key: 'a', cmp: 'b' } } });
    d.send('a', { id: 6, history: { channel: 'rec:o1', limit: 5, since: { offset: 0, epoch: '' }, reverse: true } });
    d.send('a', { id: 7, history: { channel: 'rec:o1', limit: 5, since: { offset: 99, epoch: '' } } });
    d.send('a', { id: 8, presence: { channel: 'pres:o9' } });
    d.send('a', { id: 9, publish: { channel: 'pres:o9', data: 1 } });
    d.send('a', { id: 10, history: { channel: 'pres:o9' } });
    await d.recv('a', 7);
    d.send('a', { id: 11, subscribe: { channel: 'pub:o5', delta: 'bogus' } });
    await d.recv('a', 1);
    await d.closed('a', 500);
  },

  'refresh-errors': async (d) => {
    await connect(d, 'a', 'u-ref', { expIn: 60 });
    d.send('a', { id: 2, refresh: { token: await connToken({ sub: 'u-ref', expIn: -5 }) } });
    await d.closed('a');
    await connect(d, 'a2', 'u-ref', { expIn: 60 });
    d.send('a2', { id: 2, refresh: { token: await connToken({ sub: 'u-ref' }) } });
    await d.recv('a2', 1);
    d.send('a2', { id: 3, refresh: { token: await connToken({ sub: 'u-ref', expIn: 60 }) } });
    await d.recv('a2', 1);
    d.send('a2', { id: 4, refresh: { token: await connToken({ sub: 'someone-else', expIn: 60 }) } });
    await d.closed('a2');
    await connect(d, 'b', 'u-ref2', { expIn: 60 });
    d.send('b', { id: 2, refresh: { token: '' } });
    await d.closed('b');
    await connect(d, 'c', 'u-ref3');
    d.send('c', { id: 2, unsubscribe: { channel: '' } });
    await d.closed('c');
  },
};

export function epochOf(reply: unknown, key: string): string {
  if (typeof reply !== 'object' || reply === null) return '';
  const r = (reply as Record<string, unknown>)[key];
  if (typeof r !== 'object' || r === null) return '';
  const e = (r as Record<string, unknown>)['epoch'];
  return typeof e === 'string' ? e : '';
}

export { TEST_HMAC_SECRET };
