// Shared CLI plumbing: a typed exit, console output, option parsers. Kept free of heavy imports (fast start).

/** Thrown by subcommands to stop with a message on stderr and an exit code. */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Where the CLI writes; tests swap these to capture output in-process. */
export const io = {
  stdout: (text: string): void => {
    process.stdout.write(text);
  },
  stderr: (text: string): void => {
    process.stderr.write(text);
  },
};

export function out(text: string): void {
  io.stdout(`${text}\n`);
}

export function err(text: string): void {
  io.stderr(`${text}\n`);
}

/** Parses an integer option value (commander argParser). */
export function intOption(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new CliExit(`not an integer: ${JSON.stringify(value)}`);
  return Number(value);
}
