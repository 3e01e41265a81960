// Cross-field rules of the proxy keys (docs/proxy.md): every proxy in use has an endpoint, and every
// `*_proxy_name` other than "default" names an entry of the `proxies` list (names there are unique). A
// subscribe stream proxy is GRPC only and excludes the subscribe, publish and sub_refresh proxies of its
// namespace (Centrifugo's rules).
import { ConfigError } from './errors.js';
import type { ChannelOptions, GyreConfig, ProxyConfig } from './types.js';

function fail(path: string, reason: string): never {
  throw new ConfigError('cross_field', path, reason);
}

function isHttpEndpoint(endpoint: string): boolean {
  return endpoint.startsWith('http://') || endpoint.startsWith('https://');
}

function needsEndpoint(path: string, p: ProxyConfig): void {
  if (p.endpoint === '') fail(`${path}.endpoint`, 'a proxy in use needs an endpoint');
  if (isHttpEndpoint(p.endpoint)) {
    try {
      new URL(p.endpoint);
    } catch {
      fail(`${path}.endpoint`, `invalid URL ${JSON.stringify(p.endpoint)}`);
    }
  }
}

export function validateProxies(c: GyreConfig): void {
  const named = new Map<string, number>();
  c.proxies.forEach((p, i) => {
    if (p.name === '') fail(`proxies[${i}].name`, 'a named proxy needs a name');
    if (named.has(p.name)) fail(`proxies[${i}].name`, `duplicate proxy name ${JSON.stringify(p.name)}`);
    named.set(p.name, i);
  });
  const use = (enabled: boolean, name: string, namePath: string, fallback: ProxyConfig, fallbackPath: string): void => {
    if (!enabled) return;
    if (name === 'default') return needsEndpoint(fallbackPath, fallback);
    const i = named.get(name);
    if (i === undefined) fail(namePath, `proxy ${JSON.stringify(name)} not found in proxies`);
    needsEndpoint(`proxies[${i}]`, c.proxies[i]!);
  };
  const cp = c.client.proxy;
  if (cp.connect.enabled) needsEndpoint('client.proxy.connect', cp.connect);
  if (cp.refresh.enabled) needsEndpoint('client.proxy.refresh', cp.refresh);
  const chp = c.channel.proxy;
  const channel = (o: ChannelOptions, p: string): void => {
    use(o.subscribe_proxy_enabled, o.subscribe_proxy_name, `${p}.subscribe_proxy_name`, chp.subscribe, 'channel.proxy.subscribe');
    use(o.publish_proxy_enabled, o.publish_proxy_name, `${p}.publish_proxy_name`, chp.publish, 'channel.proxy.publish');
    use(o.sub_refresh_proxy_enabled, o.sub_refresh_proxy_name, `${p}.sub_refresh_proxy_name`, chp.sub_refresh, 'channel.proxy.sub_refresh');
    const m = o.map;
    if (m !== undefined) {
      use(m.publish_proxy_enabled, m.publish_proxy_name, `${p}.map.publish_proxy_name`, chp.map_publish, 'channel.proxy.map_publish');
      use(m.remove_proxy_enabled, m.remove_proxy_name, `${p}.map.remove_proxy_name`, chp.map_remove, 'channel.proxy.map_remove');
    }
    if (!o.subscribe_stream_proxy_enabled) return;
    if (o.subscribe_proxy_enabled || o.publish_proxy_enabled || o.sub_refresh_proxy_enabled) {
      fail(`${p}.subscribe_stream_proxy_enabled`, "can't use subscribe stream proxy together with subscribe, publish or sub refresh proxies");
    }
    const name = o.subscribe_stream_proxy_name;
    use(true, name, `${p}.subscribe_stream_proxy_name`, chp.subscribe_stream, 'channel.proxy.subscribe_stream');
    const [sp, spPath] = name === 'default' ? [chp.subscribe_stream, 'channel.proxy.subscribe_stream'] : [c.proxies[named.get(name)!]!, `proxies[${named.get(name)!}]`];
    if (isHttpEndpoint(sp.endpoint)) fail(`${spPath}.endpoint`, 'a subscribe stream proxy needs a GRPC endpoint (only GRPC is supported)');
  };
  channel(c.channel.without_namespace, 'channel.without_namespace');
  c.channel.namespaces.forEach((ns, i) => channel(ns, `channel.namespaces[${i}]`));
  const rpc = c.rpc;
  use(rpc.without_namespace.proxy_enabled, rpc.without_namespace.proxy_name, 'rpc.without_namespace.proxy_name', rpc.proxy, 'rpc.proxy');
  rpc.namespaces.forEach((ns, i) => use(ns.proxy_enabled, ns.proxy_name, `rpc.namespaces[${i}].proxy_name`, rpc.proxy, 'rpc.proxy'));
}
