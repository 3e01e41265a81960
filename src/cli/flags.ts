// The server's command-line flags: dotted config key paths handed to loadConfig (docs/config.md, "Flags").
// Centrifugo v6.9.1's own root flags are all accepted; those whose key Gyre does not implement are hidden from
// --help and go through the same key rule as the file (refused unless at the default). Every Gyre extension key
// (in the schema, unknown to Centrifugo) is also a flag.

import { Option, type Command } from 'commander';
import { nodeAt } from '../config/keytree.js';
import { CENTRIFUGO_TREE, gyreExtensionKeys } from '../config/support.js';

/** Centrifugo v6.9.1 root flags (`centrifugo --help`): [short, key path, description]. */
const CENTRIFUGO_FLAGS: ReadonlyArray<readonly [string, string, string]> = [
  ['', 'pid_file', 'write the process id to this file'],
  ['-a', 'http_server.address', 'interface address to listen on'],
  ['-p', 'http_server.port', 'port to bind the HTTP server to (default 8000)'],
  ['', 'http_server.internal_address', 'interface address for internal endpoints'],
  ['', 'http_server.internal_port', 'port for internal endpoints (API, metrics, health)'],
  ['', 'engine.type', 'engine to use: memory or redis'],
  ['', 'log.level', 'none|trace|debug|info|warn|error'],
  ['', 'log.file', 'log to this file instead of stdout'],
  ['', 'prometheus.enabled', 'enable the Prometheus /metrics endpoint'],
  ['', 'health.enabled', 'enable the /health endpoint'],
  ['', 'client.insecure', 'development mode: no client auth or permission checks'],
  ['', 'http_api.insecure', 'HTTP API without key'],
  ['', 'http_api.external', 'serve the HTTP API on the external port'],
  ['', 'admin.enabled', 'enable admin web interface'],
  ['', 'admin.external', 'expose admin web interface on external port'],
  ['', 'admin.insecure', 'admin without authentication'],
  ['', 'broker.enabled', 'enable broker'],
  ['', 'broker.type', 'broker to use'],
  ['', 'debug.enabled', 'enable debug endpoints'],
  ['', 'grpc_api.enabled', 'enable GRPC API server'],
  ['', 'grpc_api.port', 'port of the GRPC API server'],
  ['', 'http_stream.enabled', 'enable bidirectional HTTP-streaming endpoint'],
  ['', 'init.enabled', 'enable connection init endpoint'],
  ['', 'map_broker.type', 'map broker to use'],
  ['', 'presence_manager.enabled', 'enable presence manager'],
  ['', 'presence_manager.type', 'presence manager to use'],
  ['', 'sse.enabled', 'enable bidirectional SSE endpoint'],
  ['', 'swagger.enabled', 'enable Swagger UI endpoint'],
  ['', 'uni_grpc.enabled', 'enable unidirectional GRPC endpoint'],
  ['', 'uni_grpc.port', 'port of the unidirectional GRPC server'],
  ['', 'uni_http_stream.enabled', 'enable unidirectional HTTP-streaming endpoint'],
  ['', 'uni_sse.enabled', 'enable unidirectional SSE endpoint'],
  ['', 'uni_websocket.enabled', 'enable unidirectional websocket endpoint'],
];

/** Help for Gyre's extension keys; an extension missing here still gets a flag, with a generic description. */
const EXTENSION_HELP: Readonly<Record<string, string>> = {
  'http_server.backlog': 'listen backlog for bursts of connects (Gyre extension, default 65535)',
  'http_server.warmup_connections':
    'loopback handshakes run before the port opens, 0 = off (Gyre extension, default 500)',
  'http_api.max_request_body_size': 'largest server API request body in bytes, 413 above (Gyre extension, default 10485760)',
  'http_api.max_batch_size': 'most commands in one /api/batch, 400 above (Gyre extension, default 1000000)',
  'admin.token_ttl': 'lifetime of an admin login token (Gyre extension, default 24h)',
  'client.ip_connection_limit': 'open connections per remote address, 503 above, 0 = off (Gyre extension, default 0)',
  'http_server.max_handshakes_in_flight':
    'upgraded connections still waiting for their connect reply, 503 above, 0 = off (Gyre extension, default 0)',
  'http_server.handshake_wait_budget':
    'refuse a new client with 503 when it would wait longer than this, 0 = off (Gyre extension, default 2s)',
  'http_server.fd_reserve': 'refuse new connections with 503 when fewer fds than this are left (Gyre extension, default 64)',
  'health.ready_handler_prefix': 'readiness endpoint, 503 from the start of a shutdown, "" = off (Gyre extension, default /ready)',
  'shutdown.drain_duration': 'window over which clients are closed with 3001 on shutdown, 0 = all at once (Gyre extension, default 10s)',
  'node.workers': 'worker processes serving the port, each a full node; auto = one per CPU; short form --workers N (Gyre extension, default 1)',
  'node.workers_scheduling': 'rr = the primary accepts and hands connections round-robin, none = workers accept on the shared socket (Gyre extension, default none)',
  'node.listen_copies': 'under none, descriptors of the listening socket per worker: up to this many accepts per event-loop turn (Gyre extension, default 8)',
  'node.worker_node_args':
    'node/V8 flags added to each worker process, space-separated; your own node flags win (Gyre extension, default none: see docs/workers.md)',
  'shutdown.pre_drain_delay': 'not-ready time before the drain starts (Gyre extension, default 0s)',
};

/** Hidden long aliases kept for convenience: [flag, option name, key path]. */
const ALIASES: ReadonlyArray<readonly [string, string, string]> = [
  ['--port <port>', 'port', 'http_server.port'],
  ['--address <address>', 'address', 'http_server.address'],
  ['--workers <n>', 'workers', 'node.workers'],
];

interface ServerFlag {
  readonly short: string;
  readonly key: string;
  readonly description: string;
  /** Shown in --help: the key is implemented (or a Gyre extension). */
  readonly shown: boolean;
}

function serverFlags(): ServerFlag[] {
  const flags = CENTRIFUGO_FLAGS.map(([short, key, description]) => ({
    short,
    key,
    description,
    shown: nodeAt(key) !== undefined,
  }));
  for (const key of gyreExtensionKeys()) {
    flags.push({ short: '', key, description: EXTENSION_HELP[key] ?? `Gyre extension key ${key}`, shown: true });
  }
  return flags;
}

/** `-c=file`, `-p=8000`: commander passes "=file" for a short option; strip the "=". */
export function stripEquals(value: string): string {
  return value.startsWith('=') ? value.slice(1) : value;
}

/** Adds -c/--config and every server flag to a command (the root command and `serve`). */
export function addServerOptions(cmd: Command): Command {
  cmd.addOption(
    new Option('-c, --config <file>', 'configuration file (json, yaml, yml, toml; default config.json if present)').argParser(
      stripEquals,
    ),
  );
  for (const f of serverFlags()) {
    const bool = (nodeAt(f.key) ?? nodeAt(f.key, CENTRIFUGO_TREE))?.kind === 'bool';
    const long = `--${f.key} ${bool ? '[bool]' : '<value>'}`;
    const opt = new Option(f.short === '' ? long : `${f.short}, ${long}`, f.description).argParser(stripEquals);
    cmd.addOption(f.shown ? opt : opt.hideHelp());
  }
  for (const [spec] of ALIASES) cmd.addOption(new Option(spec).argParser(stripEquals).hideHelp());
  return cmd;
}

/** Flags object for loadConfig (dotted key → value) from a server command's parsed options. */
export function serverFlagValues(opts: Record<string, unknown>): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const [, name, key] of ALIASES) if (opts[name] !== undefined) flags[key] = opts[name];
  for (const f of serverFlags()) if (opts[f.key] !== undefined) flags[f.key] = opts[f.key];
  return flags;
}

/** Key paths that are flags (for tests and docs). */
export function serverFlagKeys(): string[] {
  return serverFlags().map((f) => f.key);
}
