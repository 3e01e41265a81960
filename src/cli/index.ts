// Command-line entry (Centrifugo-compatible, protocol.md §8.4): the root command runs the server; subcommands
// generate and check configs and tokens. Root flags are dotted config key paths passed to loadConfig as flags.

import { Command, CommanderError } from 'commander';
import { serverVersionString } from '../version.js';
import { registerCheckconfig } from './checkconfig.js';
import { registerChecktoken } from './checktoken.js';
import { CliExit, err } from './common.js';
import { registerDefaultconfig } from './defaultconfig.js';
import { registerGenconfig } from './genconfig.js';
import { registerGentoken } from './gentoken.js';
import { serve, type ServeDeps, defaultServeDeps } from './serve.js';
import { registerVersion } from './version.js';

/** Root flags: [flags spec, config key path, description]. "[bool]" flags accept --x and --x=false. */
const ROOT_FLAGS: ReadonlyArray<readonly [string, string, string]> = [
  ['--pid_file <file>', 'pid_file', 'write the process id to this file'],
  ['-a, --http_server.address <address>', 'http_server.address', 'interface to bind'],
  ['-p, --http_server.port <port>', 'http_server.port', 'port to bind (default 8000)'],
  ['--http_server.internal_address <address>', 'http_server.internal_address', 'internal interface to bind'],
  ['--http_server.internal_port <port>', 'http_server.internal_port', 'internal port (API, metrics, health)'],
  ['--engine.type <type>', 'engine.type', 'engine: memory'],
  ['--log.level <level>', 'log.level', 'none|trace|debug|info|warn|error'],
  ['--log.file <file>', 'log.file', 'log to this file instead of stdout'],
  ['--admin.enabled [bool]', 'admin.enabled', 'enable the admin web UI'],
  ['--admin.external [bool]', 'admin.external', 'serve admin on the external port'],
  ['--admin.insecure [bool]', 'admin.insecure', 'admin without authentication'],
  ['--prometheus.enabled [bool]', 'prometheus.enabled', 'enable /metrics'],
  ['--health.enabled [bool]', 'health.enabled', 'enable /health'],
  ['--client.insecure [bool]', 'client.insecure', 'development mode: no client auth or permission checks'],
  ['--http_api.insecure [bool]', 'http_api.insecure', 'HTTP API without key'],
  ['--http_api.external [bool]', 'http_api.external', 'serve the HTTP API on the external port'],
];

/** Hidden short aliases kept for convenience (v5 style). */
const ALIASES: ReadonlyArray<readonly [string, string]> = [
  ['--port <port>', 'http_server.port'],
  ['--address <address>', 'http_server.address'],
];

export function buildProgram(serveDeps: ServeDeps = defaultServeDeps): Command {
  const program = new Command('gyre')
    .description('Gyre: real-time messaging server, Centrifugo v6 compatible')
    .version(serverVersionString(), '-v, --version', 'print the version')
    .option('-c, --config <file>', 'configuration file (json, yaml, yml, toml; default config.json if present)')
    .exitOverride();
  for (const [spec, , description] of ROOT_FLAGS) program.option(spec, description);
  for (const [spec] of ALIASES) program.addOption(new Command().createOption(spec).hideHelp());
  program.action(async (opts: Record<string, unknown>) => {
    const flags: Record<string, unknown> = {};
    for (const [spec, key] of ALIASES) {
      const name = spec.split(' ')[0]?.replace(/^--/, '') ?? '';
      if (opts[name] !== undefined) flags[key] = opts[name];
    }
    for (const [, key] of ROOT_FLAGS) if (opts[key] !== undefined) flags[key] = opts[key];
    const file = typeof opts['config'] === 'string' ? opts['config'] : undefined;
    await serve({ file, flags }, serveDeps);
  });
  registerVersion(program);
  registerGenconfig(program);
  registerCheckconfig(program);
  registerDefaultconfig(program);
  registerGentoken(program);
  registerChecktoken(program);
  return program;
}

/** Parses argv (process.argv shape) and runs; returns the exit code for subcommands (serve exits itself). */
export async function runCli(argv: readonly string[], serveDeps?: ServeDeps): Promise<number> {
  const program = buildProgram(serveDeps);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CliExit) {
      err(e.message);
      return e.exitCode;
    }
    if (e instanceof CommanderError) return e.exitCode; // commander already printed usage / version / error
    throw e;
  }
}
