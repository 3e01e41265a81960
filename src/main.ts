// Process entry point: `node dist/src/main.js [flags] [command]` (bin/gyre.js) or `tsx src/main.ts`.

import { runCli } from './cli/index.js';

// A reader that closes the pipe early (`gyre gentoken | head -1`) is not an error: stop writing quietly instead
// of dying on the stream's unhandled EPIPE with a stack trace. The server logs through pino's own fd writer.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

const code = await runCli(process.argv);
process.exitCode = code;
