// Legacy single endpoint (docs/protocol.md §6.1, removed in Centrifugo v7): POST <prefix> with newline-delimited
// `{"id":N,"method":"publish","params":{…}}` commands; replies `{"id":N,"result":…}` / `{"id":N,"error":…}`.
import { ApiError } from '../protocol/errors.js';
import { Pacer } from './batch.js';
import { parseApiJson } from './decode.js';
import { ApiErrors, SchemaError, errorBody } from './errors.js';
import type { ApiExecutor } from './executor.js';
import { stringifyJson } from './json.js';
import type { JsonObject } from './json.js';
import { isCommandMethod, parseCommand } from './schemas.js';

interface LegacyCommand {
  id: number;
  method: string;
  params: unknown;
}

/** Splits and parses the body; undefined when a line is not a JSON command object (⇒ HTTP 400). */
export function parseLegacy(body: Uint8Array): LegacyCommand[] | undefined {
  const out: LegacyCommand[] = [];
  for (let start = 0; start < body.length; ) {
    let nl = body.indexOf(0x0a, start);
    if (nl === -1) nl = body.length;
    const from = start;
    start = nl + 1;
    if (blank(body, from, nl)) continue;
    const parsed = parseApiJson(body, from, nl, true);
    if (!parsed.ok) return undefined;
    const v = parsed.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const o = v as Record<string, unknown>;
    const id = o['id'] ?? 0;
    const method = o['method'] ?? '';
    if (typeof id !== 'number' || !Number.isInteger(id) || typeof method !== 'string') return undefined;
    out.push({ id, method, params: o['params'] });
  }
  return out;
}

/** Only JSON whitespace (String.prototype.trim also removed other Unicode spaces; those were never JSON). */
function blank(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

async function runOne(cmd: LegacyCommand, executor: ApiExecutor): Promise<JsonObject> {
  const id = cmd.id > 0 ? cmd.id : undefined;
  if (!isCommandMethod(cmd.method)) return { id, error: errorBody(ApiErrors.notFound()) };
  try {
    const result = await executor.run(parseCommand(cmd.method, cmd.params));
    return { id, result };
  } catch (err) {
    if (err instanceof SchemaError) return { id, error: errorBody(ApiErrors.badRequest()) };
    return { id, error: errorBody(err instanceof ApiError ? err : ApiErrors.internal()) };
  }
}

/** Executes the commands in order, yielding to the event loop between slices; replies joined by '\n'. */
export async function runLegacy(commands: readonly LegacyCommand[], executor: ApiExecutor): Promise<string> {
  const replies: string[] = [];
  const pacer = new Pacer();
  for (const c of commands) {
    replies.push(stringifyJson(await runOne(c, executor)));
    await pacer.maybeYield();
  }
  return replies.join('\n');
}
