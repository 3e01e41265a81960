import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChannelResolver } from '../../../src/core/channels.js';
import type { ResolvedChannel } from '../../../src/core/channels.js';
import {
  canHistory,
  canPresence,
  canPublish,
  canSubscribe,
  checkHistory,
  checkPresence,
  checkPublish,
  resolveSubscribeOptions,
} from '../../../src/core/permissions.js';
import { channelProxyDefaults, sharedPollChannelDefaults } from './config-fixture.js';
import type { ChannelConfig, ChannelOptions } from '../../../src/config/types.js';
import { ProtocolError } from '../../../src/protocol/errors.js';

function opts(over: Partial<ChannelOptions> = {}): ChannelOptions {
  return {
    presence: false, join_leave: false, force_push_join_leave: false, history_size: 0, history_ttl: 0,
    history_meta_ttl: 0, force_positioning: false, allow_positioning: false, force_recovery: false,
    allow_recovery: false, force_recovery_mode: '', auto_cache_recover: false, allowed_delta_types: [],
    delta_publish: false, allow_tags_filter: false, allow_subscribe_for_client: false,
    allow_subscribe_for_anonymous: false, allow_publish_for_client: false, allow_publish_for_subscriber: false,
    allow_publish_for_anonymous: false, allow_presence_for_client: false, allow_presence_for_subscriber: false,
    allow_presence_for_anonymous: false, allow_history_for_client: false, allow_history_for_subscriber: false,
    allow_history_for_anonymous: false, allow_user_limited_channels: false, channel_regex: '',
    publication_data_format: '', subscription_type: '', shared_poll: sharedPollChannelDefaults(), subscribe_proxy_enabled: false,
    subscribe_proxy_name: 'default', publish_proxy_enabled: false, publish_proxy_name: 'default',
    sub_refresh_proxy_enabled: false, sub_refresh_proxy_name: 'default',
    subscribe_stream_proxy_enabled: false, subscribe_stream_proxy_name: 'default', subscribe_stream_proxy_bidirectional: false,
    ...over,
  };
}

/** Resolves `channel` with `over` as without_namespace options. */
function rc(channel: string, over: Partial<ChannelOptions> = {}): ResolvedChannel {
  const cfg: ChannelConfig = {
    proxy: channelProxyDefaults(),
    without_namespace: opts(over), namespaces: [], history_meta_ttl: 1000, publication_data_format: '',
    max_length: 255, private_prefix: '$', namespace_boundary: ':', user_boundary: '#', user_separator: ',',
  };
  return new ChannelResolver(cfg).resolve(channel);
}

const bools = [false, true] as const;
const users = ['', 'u1'] as const;

function errCode(fn: () => void): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  return 0;
}

describe('canSubscribe (no token)', () => {
  it('matches docs/protocol.md §4.6 steps 2, 4, 7, 8 over every combination', () => {
    let checked = 0;
    for (const forClient of bools)
      for (const forAnon of bools)
        for (const userLimitedOpt of bools)
          for (const insecure of bools)
            for (const user of users)
              for (const channel of ['news', '$news', 'room#u1', 'room#u2,u3', '$room#u1']) {
                const r = rc(channel, {
                  allow_subscribe_for_client: forClient,
                  allow_subscribe_for_anonymous: forAnon,
                  allow_user_limited_channels: userLimitedOpt,
                });
                const isPrivate = channel.startsWith('$');
                const userLimited = userLimitedOpt && channel.includes('#');
                const listed = userLimited && channel.slice(channel.lastIndexOf('#') + 1).split(',').includes(user);
                let expected: boolean;
                if (isPrivate) expected = false;
                else if (listed) expected = true;
                else if (forClient && (user !== '' || forAnon) && !userLimited) expected = true;
                else expected = insecure;
                assert.equal(
                  canSubscribe({ r, user, insecure }),
                  expected,
                  JSON.stringify({ channel, forClient, forAnon, userLimitedOpt, insecure, user }),
                );
                checked++;
              }
    assert.equal(checked, 160);
  });

  it('spot checks', () => {
    assert.equal(canSubscribe({ r: rc('news'), user: 'u1', insecure: false }), false, 'default deny');
    assert.equal(canSubscribe({ r: rc('news'), user: 'u1', insecure: true }), true, 'insecure');
    assert.equal(canSubscribe({ r: rc('$news'), user: 'u1', insecure: true }), false, '$ needs a token even insecure');
    const ul = { allow_user_limited_channels: true, allow_subscribe_for_client: true };
    assert.equal(canSubscribe({ r: rc('dm#u1,u2', ul), user: 'u2', insecure: false }), true);
    assert.equal(canSubscribe({ r: rc('dm#u1,u2', ul), user: 'u3', insecure: false }), false, 'for_client ignored');
    assert.equal(
      canSubscribe({ r: rc('dm#u1', { allow_subscribe_for_client: true }), user: 'u3', insecure: false }),
      true,
      '# is meaningless with the option off',
    );
    assert.equal(canSubscribe({ r: rc('x', { allow_subscribe_for_client: true }), user: '', insecure: false }), false);
  });
});

type Kind = 'publish' | 'presence' | 'history';
const fns = { publish: canPublish, presence: canPresence, history: canHistory } as const;

describe('canPublish / canPresence / canHistory', () => {
  for (const kind of ['publish', 'presence', 'history'] as Kind[]) {
    it(`${kind}: client, subscriber, anonymous and insecure rules over every combination`, () => {
      let checked = 0;
      for (const forClient of bools)
        for (const forSub of bools)
          for (const forAnon of bools)
            for (const subscribed of bools)
              for (const insecure of bools)
                for (const user of users) {
                  const over: Partial<ChannelOptions> = {
                    [`allow_${kind}_for_client`]: forClient,
                    [`allow_${kind}_for_subscriber`]: forSub,
                    [`allow_${kind}_for_anonymous`]: forAnon,
                  };
                  const r = rc('ch', over);
                  const anonOk = user !== '' || forAnon;
                  const expected = (forClient && anonOk) || (forSub && subscribed && anonOk) || insecure;
                  assert.equal(fns[kind]({ r, user, insecure, subscribed }), expected, JSON.stringify({ kind, over, subscribed, insecure, user }));
                  checked++;
                }
      assert.equal(checked, 64);
    });
  }

  it('options of one kind do not grant another', () => {
    const r = rc('ch', { allow_publish_for_client: true, allow_presence_for_client: false });
    assert.equal(canPublish({ r, user: 'u', insecure: false, subscribed: true }), true);
    assert.equal(canPresence({ r, user: 'u', insecure: false, subscribed: true }), false);
    assert.equal(canHistory({ r, user: 'u', insecure: false, subscribed: true }), false);
  });
});

describe('checkPublish / checkPresence / checkHistory', () => {
  const base = { user: 'u', insecure: false, subscribed: false };
  it('publish: 103 when denied', () => {
    assert.equal(errCode(() => checkPublish({ ...base, r: rc('ch') })), 103);
    assert.equal(errCode(() => checkPublish({ ...base, r: rc('ch', { allow_publish_for_client: true }) })), 0);
  });
  it('presence: 108 when off (even insecure), else 103 when denied', () => {
    assert.equal(errCode(() => checkPresence({ ...base, insecure: true, r: rc('ch') })), 108);
    assert.equal(errCode(() => checkPresence({ ...base, r: rc('ch', { presence: true }) })), 103);
    assert.equal(errCode(() => checkPresence({ ...base, insecure: true, r: rc('ch', { presence: true }) })), 0);
  });
  it('history: 108 unless size and ttl, else 103 when denied', () => {
    assert.equal(errCode(() => checkHistory({ ...base, insecure: true, r: rc('ch', { history_size: 5 }) })), 108);
    assert.equal(errCode(() => checkHistory({ ...base, insecure: true, r: rc('ch', { history_ttl: 5 }) })), 108);
    const h = { history_size: 5, history_ttl: 1000 };
    assert.equal(errCode(() => checkHistory({ ...base, r: rc('ch', h) })), 103);
    assert.equal(errCode(() => checkHistory({ ...base, r: rc('ch', { ...h, allow_history_for_subscriber: true }) })), 103);
    assert.equal(
      errCode(() => checkHistory({ ...base, subscribed: true, r: rc('ch', { ...h, allow_history_for_subscriber: true }) })),
      0,
    );
  });
});

describe('resolveSubscribeOptions', () => {
  const user = 'u1';

  it('defaults: everything off, stream mode', () => {
    assert.deepEqual(resolveSubscribeOptions({ r: rc('ch'), user, insecure: false }), {
      presence: false, joinLeave: false, pushJoinLeave: false, positioned: false, recoverable: false, recoveryMode: 'stream',
    });
  });

  it('namespace flags are copied; force_recovery implies positioning; cache mode', () => {
    const r = rc('ch', {
      presence: true, join_leave: true, force_push_join_leave: true, force_recovery: true, force_recovery_mode: 'cache',
    });
    assert.deepEqual(resolveSubscribeOptions({ r, user, insecure: false }), {
      presence: true, joinLeave: true, pushJoinLeave: true, positioned: true, recoverable: true, recoveryMode: 'cache',
    });
    assert.equal(resolveSubscribeOptions({ r: rc('ch', { force_positioning: true }), user, insecure: false }).positioned, true);
    assert.equal(
      resolveSubscribeOptions({ r: rc('ch', { force_recovery_mode: 'stream' }), user, insecure: false }).recoveryMode,
      'stream',
    );
  });

  it('positioned request: honoured with allow_positioning or history access', () => {
    const req = { positioned: true };
    const p = (over: Partial<ChannelOptions>, u = user, insecure = false): boolean =>
      resolveSubscribeOptions({ r: rc('ch', over), req, user: u, insecure }).positioned;
    assert.equal(p({}), false);
    assert.equal(p({ allow_positioning: true }), true);
    assert.equal(p({ allow_history_for_client: true }), true);
    assert.equal(p({ allow_history_for_subscriber: true }), true, 'evaluated as if subscribed');
    assert.equal(p({ allow_history_for_subscriber: true }, ''), false, 'anonymous rule');
    assert.equal(p({ allow_history_for_subscriber: true, allow_history_for_anonymous: true }, ''), true);
    assert.equal(p({}, user, true), true, 'insecure grants history access');
    assert.equal(
      resolveSubscribeOptions({ r: rc('ch', { allow_positioning: true }), req: { positioned: false }, user, insecure: false }).positioned,
      false,
      'not asked',
    );
  });

  it('recoverable request: honoured with allow_recovery or history access, and implies positioned', () => {
    const req = { recoverable: true };
    const s = (over: Partial<ChannelOptions>): { positioned: boolean; recoverable: boolean } => {
      const o = resolveSubscribeOptions({ r: rc('ch', over), req, user, insecure: false });
      return { positioned: o.positioned, recoverable: o.recoverable };
    };
    assert.deepEqual(s({}), { positioned: false, recoverable: false });
    assert.deepEqual(s({ allow_recovery: true }), { positioned: true, recoverable: true });
    assert.deepEqual(s({ allow_history_for_client: true }), { positioned: true, recoverable: true });
    assert.deepEqual(s({ allow_positioning: true }), { positioned: false, recoverable: false });
  });

  it('join_leave request: needs namespace join_leave and presence access', () => {
    const req = { join_leave: true };
    const j = (over: Partial<ChannelOptions>, insecure = false): boolean =>
      resolveSubscribeOptions({ r: rc('ch', over), req, user, insecure }).pushJoinLeave;
    assert.equal(j({ join_leave: true }), false);
    assert.equal(j({ allow_presence_for_client: true }), false);
    assert.equal(j({ join_leave: true, allow_presence_for_client: true }), true);
    assert.equal(j({ join_leave: true, allow_presence_for_subscriber: true }), true);
    assert.equal(j({ join_leave: true }, true), true);
    assert.equal(
      resolveSubscribeOptions({ r: rc('ch', { join_leave: true }), req: {}, user, insecure: true }).pushJoinLeave,
      false,
      'not asked',
    );
  });

  it('overrides replace the namespace values', () => {
    const r = rc('ch', { presence: true, join_leave: true, force_push_join_leave: true, force_recovery: true });
    const o = resolveSubscribeOptions({
      r, user, insecure: false,
      override: { presence: false, join_leave: false, force_push_join_leave: false, force_recovery: false },
    });
    assert.deepEqual(o, {
      presence: false, joinLeave: false, pushJoinLeave: false, positioned: false, recoverable: false, recoveryMode: 'stream',
    });
    const on = resolveSubscribeOptions({
      r: rc('ch'), user, insecure: false,
      override: { presence: true, join_leave: true, force_push_join_leave: true, force_positioning: true },
    });
    assert.deepEqual(on, {
      presence: true, joinLeave: true, pushJoinLeave: true, positioned: true, recoverable: false, recoveryMode: 'stream',
    });
    const partial = resolveSubscribeOptions({ r, user, insecure: false, override: { presence: false } });
    assert.equal(partial.presence, false);
    assert.equal(partial.joinLeave, true, 'absent override keeps the namespace value');
  });

  it('client requests still apply on top of overrides', () => {
    const o = resolveSubscribeOptions({
      r: rc('ch', { allow_recovery: true }), req: { recoverable: true }, user, insecure: false,
      override: { force_recovery: false },
    });
    assert.equal(o.recoverable, true);
  });
});
