// Command-line entry (Centrifugo-compatible, docs/protocol.md §8.4): the root command runs the server; subcommands
// generate and check configs and tokens. Root flags are dotted config key paths passed to loadConfig as flags.
// Each command's implementation is imported only when it runs, so `gyre version` starts fast and a broken
// server module cannot break the tooling commands.

import { Command, CommanderError } from 'commander';
import { serverVersionString } from '../version.js';
import { CliExit, err, intOption, io } from './common.js';
import type { TokenOpts } from './gentoken.js';
import { addServerOptions, serverFlagValues, stripEquals } from './flags.js';
import type { ServeDeps } from './serve.js';

const DEFAULT_CONFIG_FILE = 'config.json';
const DEFAULT_TTL_SECONDS = 604_800;

/** Flags object for loadConfig from the root command's parsed options (kept for callers of the old name). */
export const rootFlags = serverFlagValues;

function tokenOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file (default config.json if present)', stripEquals)
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
    .option('-c, --config <file>', 'file to create (.json, .yaml, .yml, .toml)', stripEquals, DEFAULT_CONFIG_FILE)
    .action(async (opts: { config: string }) => (await import('./genconfig.js')).runGenconfig(opts));
  program
    .command('checkconfig')
    .description('check the configuration file')
    .option('-c, --config <file>', 'configuration file', stripEquals, DEFAULT_CONFIG_FILE)
    .option('-s, --strict', 'fail on unknown keys too (Centrifugo keys Gyre does not implement always fail)', false)
    .action(async (opts: { config: string; strict: boolean }) => (await import('./checkconfig.js')).runCheckconfig(opts));
  program
    .command('defaultconfig')
    .description('generate a configuration file with every key set to its default')
    .option('-c, --config <file>', 'file to create (.json, .yaml, .yml, .toml)', stripEquals, DEFAULT_CONFIG_FILE)
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
      .option('-c, --config <file>', 'configuration file (default config.json if present)', stripEquals)
      .action(async (token: string, opts: { config?: string }) =>
        (await import('./checktoken.js')).runChecktoken(token, opts, subscription),
      );
  }
}

export function buildProgram(serveDeps?: ServeDeps): Command {
  const program = new Command('gyre')
    .description('Gyre: real-time messaging server, Centrifugo v6 compatible')
    .version(serverVersionString(), '-v, --version', 'print the version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  const runServer = async (opts: Record<string, unknown>) => {
    const file = typeof opts['config'] === 'string' ? opts['config'] : undefined;
    const { serve, defaultServeDeps } = await import('./serve.js');
    await serve({ file, flags: serverFlagValues(opts) }, serveDeps ?? defaultServeDeps);
  };
  addServerOptions(program).action(runServer);
  // `gyre serve [flags]` is the root command under another name (flags may come before or after "serve").
  addServerOptions(program.command('serve').description('run the server (the same as gyre without a command)'))
    .exitOverride()
    .action(async (_opts: Record<string, unknown>, cmd: Command) => runServer(cmd.optsWithGlobals()));
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
