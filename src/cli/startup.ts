// What `serve` says about the ports: a check that they are free before the warm-up spends its second (a busy port
// is a one-line error and exit 1), and the start-up line with the URL of each endpoint served, so a user on a
// terminal sees where to connect (Centrifugo logs "serving websocket, api, ... endpoints on :8000").

import { createServer } from 'node:net';
import { adminPrefix } from '../admin/paths.js';
import type { GyreConfig } from '../config/types.js';

interface Listener {
  readonly address: string;
  readonly port: number;
}

function listeners(config: Readonly<GyreConfig>): { main: Listener; internal?: Listener } {
  const hs = config.http_server;
  const main = { address: hs.address, port: hs.port };
  const internal = {
    address: hs.internal_address === '' ? hs.address : hs.internal_address,
    port: hs.internal_port === 0 ? hs.port : hs.internal_port,
  };
  const separate = internal.port !== main.port || internal.address !== main.address;
  return separate ? { main, internal } : { main };
}

function tryBind(l: Listener): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    const opts: { port: number; host?: string; exclusive: boolean } = { port: l.port, exclusive: true };
    if (l.address !== '') opts.host = l.address;
    srv.listen(opts, () => srv.close(() => resolve(undefined)));
  });
}

function hostPort(l: Listener): string {
  return `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`;
}

/**
 * Binds and releases each configured port (port 0 is skipped). Returns the one-line error for the first one that
 * cannot be bound ("error: cannot listen on :8000: address already in use"), or undefined.
 */
export async function checkPorts(config: Readonly<GyreConfig>): Promise<string | undefined> {
  const { main, internal } = listeners(config);
  for (const [what, l] of [
    ['', main],
    ['internal ', internal],
  ] as const) {
    if (l === undefined || l.port === 0) continue;
    const e = await tryBind(l);
    if (e === undefined) continue;
    const key = what === '' ? 'http_server.port' : 'http_server.internal_port';
    const reason = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
    return `error: cannot listen on ${what}${hostPort(l)} (${key}): ${reason}`;
  }
  return undefined;
}

function urlHost(address: string): string {
  if (address === '' || address === '0.0.0.0' || address === '::') return 'localhost';
  return address.includes(':') ? `[${address}]` : address;
}

/** The endpoints served, each with its full URL, in the order Centrifugo lists them. */
export function endpointUrls(
  config: Readonly<GyreConfig>,
  ports: { port: number; internalPort: number },
): Array<{ name: string; url: string }> {
  const { main, internal } = listeners(config);
  const hs = config.http_server;
  // As src/http/tls.ts: the main server has http_server.tls; a separate internal one has internal_tls, else the
  // same tls unless tls_external.
  const mainTls = hs.tls.enabled;
  const internalTls = hs.internal_tls.enabled || (mainTls && !hs.tls_external);
  const base = `${mainTls ? 'https' : 'http'}://${urlHost(main.address)}:${ports.port}`;
  const internalBase =
    internal === undefined ? base : `${internalTls ? 'https' : 'http'}://${urlHost(internal.address)}:${ports.internalPort}`;
  const out: Array<{ name: string; url: string }> = [];
  if (!config.websocket.disabled) {
    out.push({ name: 'websocket', url: `ws${base.slice('http'.length)}${config.websocket.handler_prefix}` });
  }
  if (!config.http_api.disabled) {
    out.push({ name: 'api', url: `${config.http_api.external ? base : internalBase}${config.http_api.handler_prefix}` });
  }
  if (config.prometheus.enabled) out.push({ name: 'metrics', url: `${internalBase}${config.prometheus.handler_prefix}` });
  if (config.health.enabled) out.push({ name: 'health', url: `${internalBase}${config.health.handler_prefix}` });
  if (config.admin.enabled) {
    // On the main port only with admin.external, as the routes are registered.
    const prefix = adminPrefix(config.admin.handler_prefix);
    out.push({ name: 'admin', url: `${config.admin.external ? base : internalBase}${prefix}/admin/` });
  }
  return out;
}

/** "gyre started on http://localhost:8000: websocket ws://localhost:8000/connection/websocket, api …". */
export function startedLine(config: Readonly<GyreConfig>, ports: { port: number; internalPort: number }): string {
  const list = endpointUrls(config, ports)
    .map((e) => `${e.name} ${e.url}`)
    .join(', ');
  const at = `${config.http_server.tls.enabled ? 'https' : 'http'}://${urlHost(config.http_server.address)}:${ports.port}`;
  return `gyre started on ${at}: ${list === '' ? 'no endpoints enabled' : list}`;
}
