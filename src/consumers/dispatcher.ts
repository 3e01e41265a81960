// Consumed commands → the server API executor, with Centrifugo's consuming rules (internal/api/consuming.go):
// - the methods a consumer may run are publish, broadcast, subscribe, unsubscribe, disconnect, history_remove
//   and refresh; any other method is skipped (logged);
// - an empty method means the payload is an envelope `{"method": "...", "payload": <request>}` whose payload
//   may also be a JSON string holding the request (as Debezium writes a JSONB column);
// - a payload that does not decode as the method's request is skipped (logged), so a bad row never blocks
//   the queue;
// - an API error is final (logged, skipped) except internal errors (100), which the consumer retries; for
//   broadcast, one channel answering 100 retries the whole command (idempotency keys prevent duplicates).
// Payload bytes reach the executor exactly as consumed (docs/payloads.md).
import type { Logger } from 'pino';
import { parseApiJson, API_MAX_DEPTH } from '../api/decode.js';
import { SchemaError } from '../api/errors.js';
import type { ApiExecutor } from '../api/executor.js';
import type { JsonObject } from '../api/json.js';
import { parseCommand, type ApiCommand, type CommandMethod, type PublishPayload } from '../api/schemas.js';
import { ApiError } from '../protocol/errors.js';
import { parseJson } from '../protocol/json-scan.js';
import { RetryableDispatchError, type CommandDispatcher, type ConsumedPublication, type DispatchOutcome } from './types.js';

const CONSUMABLE: ReadonlySet<string> = new Set<CommandMethod>([
  'publish',
  'broadcast',
  'subscribe',
  'unsubscribe',
  'disconnect',
  'history_remove',
  'refresh',
]);
const INTERNAL = 100;
const ENVELOPE_OPAQUE: ReadonlySet<string> = new Set(['payload']);
const encoder = new TextEncoder();

/** `{"method": …, "payload": …}`: the method and the request bytes, or undefined when malformed. */
export function decodeEnvelope(b: Uint8Array): { method: string; payload: Uint8Array } | undefined {
  const r = parseJson(b, 0, b.length, { maxDepth: API_MAX_DEPTH, opaqueKeys: ENVELOPE_OPAQUE, rawDepth: 1 });
  if (!r.ok || typeof r.value !== 'object' || r.value === null || Array.isArray(r.value)) return undefined;
  const o = r.value as Record<string, unknown>;
  const m = o['method'];
  if (m !== undefined && m !== null && typeof m !== 'string') return undefined;
  const p = o['payload'];
  let payload: Uint8Array;
  if (p instanceof Uint8Array) {
    if (p[0] === 0x22) {
      // A JSON string: its content is the request.
      payload = encoder.encode(JSON.parse(new TextDecoder().decode(p)) as string);
    } else payload = p;
  } else payload = encoder.encode('null');
  return { method: typeof m === 'string' ? m : '', payload };
}

function hasInternalError(result: JsonObject): boolean {
  const responses = result['responses'];
  if (!Array.isArray(responses)) return false;
  for (const r of responses as unknown[]) {
    if (typeof r !== 'object' || r === null) continue;
    const err = (r as Record<string, unknown>)['error'];
    if (typeof err === 'object' && err !== null && (err as Record<string, unknown>)['code'] === INTERNAL) return true;
  }
  return false;
}

export class ConsumedCommandDispatcher implements CommandDispatcher {
  constructor(
    private readonly executor: Pick<ApiExecutor, 'run'>,
    private readonly logger: Logger,
  ) {}

  async dispatch(method: string, payload: Uint8Array): Promise<DispatchOutcome> {
    if (method === '') {
      const env = decodeEnvelope(payload);
      if (env === undefined) {
        this.logger.error('skip malformed consumed message');
        return 'skipped';
      }
      return this.run(env.method, env.payload);
    }
    return this.run(method, payload);
  }

  async dispatchPublication(channels: readonly string[], pub: ConsumedPublication): Promise<DispatchOutcome> {
    if (channels.length === 0) return 'skipped';
    const payload: PublishPayload = { data: pub.data, skip_history: false, idempotency_key: pub.idempotencyKey, delta: pub.delta };
    if (pub.tags !== undefined) payload.tags = pub.tags;
    const cmd: ApiCommand =
      channels.length === 1
        ? { method: 'publish', req: { channel: channels[0] ?? '', ...payload } }
        : { method: 'broadcast', req: { channels: [...channels], ...payload } };
    return this.execute(cmd);
  }

  private async run(method: string, payload: Uint8Array): Promise<DispatchOutcome> {
    if (!CONSUMABLE.has(method)) {
      this.logger.info({ method }, 'skip unsupported API command method');
      return 'skipped';
    }
    const parsed = parseApiJson(payload);
    let cmd;
    try {
      if (!parsed.ok) throw new SchemaError('invalid data');
      cmd = parseCommand(method as CommandMethod, parsed.value);
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      this.logger.error({ method, err: 'invalid data' }, 'non retryable error during consuming, skip message');
      return 'skipped';
    }
    return this.execute(cmd);
  }

  private async execute(cmd: ApiCommand): Promise<DispatchOutcome> {
    const method = cmd.method;
    let result: JsonObject;
    try {
      result = await this.executor.run(cmd);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : INTERNAL;
      if (code === INTERNAL) throw new RetryableDispatchError(method, code);
      this.logger.error({ method, code }, 'non retryable error during consuming, skip message');
      return 'skipped';
    }
    if (method === 'broadcast' && hasInternalError(result)) throw new RetryableDispatchError(method, INTERNAL);
    return 'done';
  }
}
