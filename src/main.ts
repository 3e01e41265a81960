// Process entry point: `node dist/src/main.js [flags] [command]` (bin/gyre.js) or `tsx src/main.ts`.

import { runCli } from './cli/index.js';

const code = await runCli(process.argv);
process.exitCode = code;
