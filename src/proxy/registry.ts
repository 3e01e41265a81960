// Builds the proxies of one configuration (docs/proxy.md): connect and refresh from client.proxy, and one client
// per name used by a namespace or RPC namespace. The name "default" means the matching channel.proxy.* or
// rpc.proxy block; any other name is looked up in the `proxies` list (unknown ⇒ ConfigError at start).
// `http://` and `https://` endpoints are HTTP proxies, anything else is a GRPC target. Subscribe stream proxies
// (stream.ts) are GRPC only.
import { ConfigError } from '../config/errors.js';
import type { ChannelOptions, GyreConfig, ProxyConfig } from '../config/types.js';
import { sharedPollProxyName } from '../config/validate-shared-poll.js';
import { GrpcProxyClient } from './grpc.js';
import { HttpProxyClient } from './http.js';
import { MeteredProxyClient } from './metered.js';
import { GrpcStreamProxy } from './stream.js';
import type { ProxyClient, ProxyKind, ProxyRegistry, SubscribeStreamProxy } from './types.js';

const DEFAULT = 'default';

function isHttp(endpoint: string): boolean {
  return endpoint.startsWith('http://') || endpoint.startsWith('https://');
}

export function createProxyClient(kind: ProxyKind, name: string, path: string, config: ProxyConfig): ProxyClient {
  if (config.endpoint === '') throw new ConfigError('cross_field', `${path}.endpoint`, 'a proxy in use needs an endpoint');
  if (isHttp(config.endpoint)) {
    try {
      new URL(config.endpoint);
    } catch {
      throw new ConfigError('cross_field', `${path}.endpoint`, `invalid URL ${JSON.stringify(config.endpoint)}`);
    }
    return new MeteredProxyClient(new HttpProxyClient(name, config, path), kind);
  }
  return new MeteredProxyClient(new GrpcProxyClient(name, config, path), kind);
}

class Registry implements ProxyRegistry {
  connect: ProxyClient | undefined = undefined;
  refresh: ProxyClient | undefined = undefined;
  private readonly byKind = {
    subscribe: new Map<string, ProxyClient>(),
    publish: new Map<string, ProxyClient>(),
    sub_refresh: new Map<string, ProxyClient>(),
    rpc: new Map<string, ProxyClient>(),
    shared_poll_refresh: new Map<string, ProxyClient>(),
    map_publish: new Map<string, ProxyClient>(),
    map_remove: new Map<string, ProxyClient>(),
  };
  private readonly streams = new Map<string, SubscribeStreamProxy>();
  private readonly all: Array<{ close(): void }> = [];

  constructor(config: Readonly<GyreConfig>) {
    try {
      this.build(config);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private build(config: Readonly<GyreConfig>): void {
    const cp = config.client.proxy;
    if (cp.connect.enabled) this.connect = this.keep(createProxyClient('connect', 'connect', 'client.proxy.connect', cp.connect));
    if (cp.refresh.enabled) this.refresh = this.keep(createProxyClient('refresh', 'refresh', 'client.proxy.refresh', cp.refresh));
    const named = new Map(config.proxies.map((p, i) => [p.name, { p, path: `proxies[${i}]` }]));
    const use = (kind: keyof Registry['byKind'], name: string, where: string, fallback: ProxyConfig, fallbackPath: string): void => {
      const map = this.byKind[kind];
      if (map.has(name)) return;
      if (name === DEFAULT) {
        map.set(name, this.keep(createProxyClient(kind, name, fallbackPath, fallback)));
        return;
      }
      const n = named.get(name);
      if (n === undefined) throw new ConfigError('cross_field', where, `proxy ${JSON.stringify(name)} not found in proxies`);
      map.set(name, this.keep(createProxyClient(kind, name, n.path, n.p)));
    };
    const chp = config.channel.proxy;
    const channel = (o: ChannelOptions, path: string): void => {
      if (o.subscribe_proxy_enabled) use('subscribe', o.subscribe_proxy_name, `${path}.subscribe_proxy_name`, chp.subscribe, 'channel.proxy.subscribe');
      if (o.publish_proxy_enabled) use('publish', o.publish_proxy_name, `${path}.publish_proxy_name`, chp.publish, 'channel.proxy.publish');
      if (o.sub_refresh_proxy_enabled) {
        use('sub_refresh', o.sub_refresh_proxy_name, `${path}.sub_refresh_proxy_name`, chp.sub_refresh, 'channel.proxy.sub_refresh');
      }
      if (o.subscribe_stream_proxy_enabled) stream(o.subscribe_stream_proxy_name, `${path}.subscribe_stream_proxy_name`);
      const m = o.map;
      if (m?.publish_proxy_enabled === true) use('map_publish', m.publish_proxy_name, `${path}.map.publish_proxy_name`, chp.map_publish, 'channel.proxy.map_publish');
      if (m?.remove_proxy_enabled === true) use('map_remove', m.remove_proxy_name, `${path}.map.remove_proxy_name`, chp.map_remove, 'channel.proxy.map_remove');
      if (o.subscription_type === 'shared_poll') {
        const name = sharedPollProxyName(o);
        use('shared_poll_refresh', name, `${path}.shared_poll.proxy_name`, chp.shared_poll_refresh, 'channel.proxy.shared_poll_refresh');
      }
    };
    // Subscribe stream proxies are GRPC only, as in Centrifugo.
    const stream = (name: string, where: string): void => {
      if (this.streams.has(name)) return;
      const n = name === DEFAULT ? undefined : named.get(name);
      if (name !== DEFAULT && n === undefined) throw new ConfigError('cross_field', where, `proxy ${JSON.stringify(name)} not found in proxies`);
      const [p, path] = n === undefined ? [chp.subscribe_stream, 'channel.proxy.subscribe_stream'] : [n.p, n.path];
      if (p.endpoint === '') throw new ConfigError('cross_field', `${path}.endpoint`, 'a proxy in use needs an endpoint');
      if (isHttp(p.endpoint)) throw new ConfigError('cross_field', `${path}.endpoint`, 'a subscribe stream proxy needs a GRPC endpoint');
      const sp = new GrpcStreamProxy(name, p, path);
      this.all.push(sp);
      this.streams.set(name, sp);
    };
    channel(config.channel.without_namespace, 'channel.without_namespace');
    config.channel.namespaces.forEach((ns, i) => channel(ns, `channel.namespaces[${i}]`));
    const rpc = config.rpc;
    if (rpc.without_namespace.proxy_enabled) {
      use('rpc', rpc.without_namespace.proxy_name, 'rpc.without_namespace.proxy_name', rpc.proxy, 'rpc.proxy');
    }
    rpc.namespaces.forEach((ns, i) => {
      if (ns.proxy_enabled) use('rpc', ns.proxy_name, `rpc.namespaces[${i}].proxy_name`, rpc.proxy, 'rpc.proxy');
    });
  }

  private keep(c: ProxyClient): ProxyClient {
    this.all.push(c);
    return c;
  }

  subscribe(name: string): ProxyClient | undefined {
    return this.byKind.subscribe.get(name);
  }
  publish(name: string): ProxyClient | undefined {
    return this.byKind.publish.get(name);
  }
  subRefresh(name: string): ProxyClient | undefined {
    return this.byKind.sub_refresh.get(name);
  }
  rpc(name: string): ProxyClient | undefined {
    return this.byKind.rpc.get(name);
  }
  subscribeStream(name: string): SubscribeStreamProxy | undefined {
    return this.streams.get(name);
  }
  mapPublish(name: string): ProxyClient | undefined {
    return this.byKind.map_publish.get(name);
  }
  mapRemove(name: string): ProxyClient | undefined {
    return this.byKind.map_remove.get(name);
  }
  sharedPollRefresh(name: string): ProxyClient | undefined {
    return this.byKind.shared_poll_refresh.get(name === '' ? DEFAULT : name);
  }

  close(): void {
    for (const c of this.all) c.close();
  }
}

/** The proxies `config` uses (ConfigError naming the key when one cannot be built; nothing is left open then). */
export function createProxies(config: Readonly<GyreConfig>): ProxyRegistry {
  return new Registry(config);
}
