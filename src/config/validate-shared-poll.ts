// Cross-field rules of shared poll (docs/shared-poll.md), as Centrifugo's validate.go has them: a shared_poll
// namespace needs the top-level signing key and a refresh proxy with an endpoint, and shared_poll_publish needs
// versions (versioned mode).
import { ConfigError } from './errors.js';
import type { ChannelOptions, GyreConfig } from './types.js';

function fail(path: string, reason: string): never {
  throw new ConfigError('cross_field', path, reason);
}

/** The proxy name a shared poll namespace uses: "" means "default" (channel.proxy.shared_poll_refresh). */
export function sharedPollProxyName(o: ChannelOptions): string {
  return o.shared_poll.proxy_name === '' ? 'default' : o.shared_poll.proxy_name;
}

function check(c: GyreConfig, o: ChannelOptions, p: string): void {
  if (o.subscription_type !== 'shared_poll') return;
  if ((c.shared_poll?.hmac_secret_key ?? '') === '') {
    fail('shared_poll.hmac_secret_key', `required when ${p}.subscription_type is "shared_poll"`);
  }
  const sp = o.shared_poll;
  const name = sharedPollProxyName(o);
  if (name === 'default') {
    if (c.channel.proxy.shared_poll_refresh.endpoint === '') {
      fail('channel.proxy.shared_poll_refresh.endpoint', `a proxy in use needs an endpoint (${p} polls through it)`);
    }
  } else if (!c.proxies.some((x) => x.name === name)) {
    fail(`${p}.shared_poll.proxy_name`, `proxy ${JSON.stringify(name)} not found in proxies`);
  }
  if (sp.publish_enabled && sp.mode !== 'versioned') {
    fail(`${p}.shared_poll.publish_enabled`, 'publish_enabled needs mode "versioned" (publications carry explicit versions)');
  }
}

export function validateSharedPoll(c: GyreConfig): void {
  check(c, c.channel.without_namespace, 'channel.without_namespace');
  c.channel.namespaces.forEach((ns, i) => check(c, ns, `channel.namespaces[${i}]`));
}
