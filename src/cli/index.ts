// Command-line entry (Centrifugo-compatible, protocol.md §8.4): the root command runs the server; subcommands
// generate and check configs and tokens. Root flags are dotted config key paths passed to loadConfig as flags.
// Each command's implementation is imported only when it runs, so `gyre version` starts fast and a broken
// server module cannot break the tooling commands.

import { Command, CommanderError } from 'commander';
import { serverVersionString } from '../version.js';
import { CliExit, err, intOption, io } from './common.js';
import type { TokenOpts } from './gentoken.js';
import type { ServeDeps } from './serve.js';

const DEFAULT_CONFIG_FILE = 'config.json';
const DEFAULT_TTL_SECONDS = 604_800;

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

/** Hidden long aliases kept for convenience (-p/--port, -a/--address). */
const ALIASES: ReadonlyArray<readonly [string, string, string]> = [
  ['--port <port>', 'port', 'http_server.port'],
  ['--address <address>', 'address', 'http_server.address'],
];

/** Flags object for loadConfig from the root command's parsed options. */
export function rootFlags(opts: Record<string, unknown>): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const [, name, key] of ALIASES) if (opts[name] !== undefined) flags[key] = opts[name];
  for (const [, key] of ROOT_FLAGS) if (opts[key] !== undefined) flags[key] = opts[key];
  return flags;
}

function tokenOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file (default config.json if present)')
    .option('-u, --user <user>', 'user id ("" = anonymous)', '')
    .option('-t, --ttl <seconds>', 'token lifetime in seconds, -1 for no expiration', intOption, DEFAULT_TTL_SECONDS)
    .option('-q, --quiet', 'print only the token', false);
}

function registerSubcommands(program: Command): void {
  program
    .command('version')
    .description('print the version')
    .action(async () => (await import('./version.js')).runVersion());
  program
    .command('genconfig')
    .description('generate a minimal configuration file with random secrets')
    .option('-c, --config <file>', 'file to create (.json, .yaml, .yml, .toml)', DEFAULT_CONFIG_FILE)
    .action(async (opts: { config: string }) => (await import('./genconfig.js')).runGenconfig(opts));
  program
    .command('checkconfig')
    .description('check the configuration file')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_FILE)
    .option('-s, --strict', 'fail on unknown keys', false)
    .action(async (opts: { config: string; strict: boolean }) => (await import('./checkconfig.js')).runCheckconfig(opts));
  program
    .command('defaultconfig')
    .description('generate a configuration file with every key set to its default')
    .option('-c, --config <file>', 'file to create (.json, .yaml, .yml, .toml)', DEFAULT_CONFIG_FILE)
    .option('-d, --dry-run', 'print to stdout instead of writing the file', false)
    .action(async (opts: { config: string; dryRun: boolean }) =>
      (await import('./defaultconfig.js')).runDefaultconfig(opts),
    );
  tokenOptions(program.command('gentoken').description('generate a connection JWT (HS256)')).action(
    async (opts: TokenOpts) => (await import('./gentoken.js')).runGentoken(opts, false),
  );
  tokenOptions(program.command('gensubtoken').description('generate a subscription JWT (HS256)'))
    .requiredOption('-s, --channel <channel>', 'channel')
    .action(async (opts: TokenOpts) => (await import('./gentoken.js')).runGentoken(opts, true));
  for (const [name, subscription] of [
    ['checktoken', false],
    ['checksubtoken', true],
  ] as const) {
    program
      .command(name)
      .description(subscription ? 'check a subscription JWT' : 'check a connection JWT')
      .argument('<token>', 'the JWT')
      .option('-c, --config <file>', 'configuration file (default config.json if present)')
      .action(async (token: string, opts: { config?: string }) =>
        (await import('./checktoken.js')).runChecktoken(token, opts, subscription),
      );
  }
}

export function buildProgram(serveDeps?: ServeDeps): Command {
  const program = new Command('gyre')
    .description('Gyre: real-time messaging server, Centrifugo v6 compatible')
    .version(serverVersionString(), '-v, --version', 'print the version')
    .option('-c, --config <file>', 'configuration file (json, yaml, yml, toml; default config.json if present)')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  for (const [spec, , description] of ROOT_FLAGS) program.option(spec, description);
  for (const [spec] of ALIASES) program.addOption(program.createOption(spec).hideHelp());
  program.action(async (opts: Record<string, unknown>) => {
    const file = typeof opts['config'] === 'string' ? opts['config'] : undefined;
    const { serve, defaultServeDeps } = await import('./serve.js');
    await serve({ file, flags: rootFlags(opts) }, serveDeps ?? defaultServeDeps);
  });
  registerSubcommands(program);
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
