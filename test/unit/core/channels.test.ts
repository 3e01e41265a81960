import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChannelResolver, utf8Length } from '../../../src/core/channels.js';
import { channelProxyDefaults, sharedPollChannelDefaults } from './config-fixture.js';
import type { ChannelConfig, ChannelOptions, NamespaceConfig } from '../../../src/config/types.js';
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
const ns = (name: string, over: Partial<ChannelOptions> = {}): NamespaceConfig => ({ ...opts(over), name });

function config(over: Partial<ChannelConfig> = {}): ChannelConfig {
  return {
    proxy: channelProxyDefaults(),
    without_namespace: opts(),
    namespaces: [
      ns('chat', { history_size: 10, history_ttl: 60_000 }),
      ns('personal', { allow_user_limited_channels: true, history_meta_ttl: 5000 }),
      ns('re', { channel_regex: '^[a-z]+$' }),
      ns('half', { history_size: 10 }),
    ],
    history_meta_ttl: 720 * 3600_000,
    publication_data_format: '',
    max_length: 255,
    private_prefix: '$',
    namespace_boundary: ':',
    user_boundary: '#',
    user_separator: ',',
    ...over,
  };
}

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  return 0;
}

describe('ChannelResolver.resolve', () => {
  const cfg = config();
  const res = new ChannelResolver(cfg);

  it('a name without boundary uses without_namespace', () => {
    const r = res.resolve('news');
    assert.equal(r.namespace, '');
    assert.equal(r.rest, 'news');
    assert.equal(r.options, cfg.without_namespace);
    assert.equal(r.isPrivate, false);
    assert.equal(r.hasHistory, false);
    assert.equal(r.allowedUsers, undefined);
    assert.equal(r.historyMetaTtlMs, cfg.history_meta_ttl);
  });

  it('the namespace is the text before the first boundary', () => {
    const r = res.resolve('chat:room:1');
    assert.equal(r.namespace, 'chat');
    assert.equal(r.rest, 'room:1');
    assert.equal(r.options.history_size, 10);
    assert.equal(r.hasHistory, true);
  });

  it('strips the private prefix before the lookup', () => {
    const r = res.resolve('$chat:x');
    assert.equal(r.namespace, 'chat');
    assert.equal(r.rest, 'x');
    assert.equal(r.isPrivate, true);
    assert.equal(r.channel, '$chat:x');
    const plain = res.resolve('$news');
    assert.equal(plain.namespace, '');
    assert.equal(plain.rest, 'news');
    assert.equal(plain.isPrivate, true);
  });

  it('an empty namespace name before the boundary means without_namespace', () => {
    const r = res.resolve(':x');
    assert.equal(r.namespace, '');
    assert.equal(r.rest, 'x');
  });

  it('unknown namespace throws 102 and is not cached', () => {
    assert.equal(code(() => res.resolve('nope:1')), 102);
    assert.equal(code(() => res.resolve('$nope:1')), 102);
    assert.equal(code(() => res.resolve('nope:1')), 102);
  });

  it('hasHistory needs both size and ttl', () => {
    assert.equal(res.resolve('half:1').hasHistory, false);
  });

  it('history meta ttl comes from the namespace when set', () => {
    assert.equal(res.resolve('personal:#1').historyMetaTtlMs, 5000);
  });

  it('user-limited: users after the last user boundary, split by the separator', () => {
    assert.deepEqual(res.resolve('personal:#42').allowedUsers, ['42']);
    assert.deepEqual(res.resolve('personal:dialog#1,2').allowedUsers, ['1', '2']);
    assert.deepEqual(res.resolve('personal:a#b#3,4').allowedUsers, ['3', '4']);
    assert.deepEqual(res.resolve('personal:x#').allowedUsers, ['']);
    assert.equal(res.resolve('personal:nohash').allowedUsers, undefined);
  });

  it('user boundary has no meaning when the option is off', () => {
    assert.equal(res.resolve('chat:#42').allowedUsers, undefined);
    assert.equal(res.resolve('#42').allowedUsers, undefined);
  });

  it('caches resolutions and bounds the cache', () => {
    const small = new ChannelResolver(cfg, 3);
    const a = small.resolve('a');
    assert.equal(small.resolve('a'), a, 'same object from the cache');
    small.resolve('b');
    small.resolve('c');
    small.resolve('d');
    assert.equal(small.cachedCount, 3);
    assert.notEqual(small.resolve('a'), a, 'evicted, rebuilt');
    assert.deepEqual(small.resolve('a'), a);
  });

  it('honours custom boundaries and prefix', () => {
    const custom = new ChannelResolver(
      config({ private_prefix: '__', namespace_boundary: '/', user_boundary: '@', user_separator: ';' }),
    );
    const r = custom.resolve('__personal/room@u1;u2');
    assert.equal(r.isPrivate, true);
    assert.equal(r.namespace, 'personal');
    assert.equal(r.rest, 'room@u1;u2');
    assert.deepEqual(r.allowedUsers, ['u1', 'u2']);
    assert.equal(custom.resolve('chat:x').namespace, '', "':' is not a boundary here");
  });

  it('resolved channels are frozen', () => {
    const r = res.resolve('chat:frozen');
    assert.ok(Object.isFrozen(r));
  });
});

describe('ChannelResolver.validateName', () => {
  const res = new ChannelResolver(config({ max_length: 10 }));

  it('accepts ASCII names within the length', () => {
    assert.equal(code(() => res.validateName(res.resolve('chat:0123'))), 0);
    assert.equal(code(() => res.validateName(res.resolve('0123456789'))), 0);
  });

  it('rejects names longer than max_length bytes with 107', () => {
    assert.equal(code(() => res.validateName(res.resolve('01234567890'))), 107);
    // 4 two-byte characters = 8 bytes is fine; 6 = 12 bytes is not (and also not ASCII).
    const regexRes = new ChannelResolver(
      config({ max_length: 10, without_namespace: opts({ channel_regex: '.*' }) }),
    );
    assert.equal(code(() => regexRes.validateName(regexRes.resolve('éééé'))), 0);
    assert.equal(code(() => regexRes.validateName(regexRes.resolve('éééééé'))), 107);
  });

  it('max_length 0 disables the length check', () => {
    const r = new ChannelResolver(config({ max_length: 0 }));
    assert.equal(code(() => r.validateName(r.resolve('x'.repeat(1000)))), 0);
  });

  it('without a regex the whole name must be ASCII', () => {
    assert.equal(code(() => res.validateName(res.resolve('café'))), 107);
    assert.equal(code(() => res.validateName(res.resolve('chat:ü'))), 107);
  });

  it('with a regex the rest must match it (non-ASCII allowed by the regex)', () => {
    const r = new ChannelResolver(config({ max_length: 100, namespaces: [ns('re', { channel_regex: '^[a-zé]+$' })] }));
    assert.equal(code(() => r.validateName(r.resolve('re:abc'))), 0);
    assert.equal(code(() => r.validateName(r.resolve('re:café'))), 0);
    assert.equal(code(() => r.validateName(r.resolve('re:ABC'))), 107);
    assert.equal(code(() => r.validateName(r.resolve('re:a:b'))), 107, 'rest is everything after the first boundary');
    assert.equal(code(() => r.validateName(r.resolve('$re:abc'))), 0, 'private prefix is not part of the rest');
  });
});

describe('utf8Length', () => {
  it('matches Buffer.byteLength', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b€é', '\ud800', '\udc00x']) {
      assert.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
    }
  });
});
