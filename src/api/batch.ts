// `/api/batch` run fairly: the body is checked in slices first (valid JSON, every command well-typed, at most
// `http_api.max_batch_size` commands; nothing runs unless all of it is acceptable, as with one JSON.parse),
// then run in slices, each slice parsed again from its bytes, run, and its replies written out before the
// next one, with a loop turn between slices. Memory holds the body and one slice, never the whole batch
// as objects nor the whole response.
import { BatchScanner, BatchSyntaxError } from './batch-scan.js';
import type { BatchScanStep } from './batch-scan.js';
import { parseApiJsonItems } from './decode.js';
import { SchemaError } from './errors.js';
import type { ApiExecutor } from './executor.js';
import { stringifyJson } from './json.js';
import type { JsonObject } from './json.js';
import { parseBatchItem, parseParallel } from './schemas.js';
import type { BatchItem } from './schemas.js';

/** Commands per run (checked, then run, together), and the loop time slices may take before the next turn. */
const RUN_SLICE = 64;
const SLICE_MS = 1;

/** More commands than `http_api.max_batch_size` (⇒ HTTP 400). */
export class BatchTooLargeError extends Error {
  override readonly name = 'BatchTooLargeError';
}

/** A checked batch: runs of consecutive command items (byte ranges of the body) and the parallel flag. */
export interface BatchPlan {
  readonly runs: readonly { start: number; end: number; count: number }[];
  readonly total: number;
  readonly parallel: boolean;
}

/** Where replies go: `write` may return a promise (wait before producing more). */
export interface BatchSink {
  write(chunk: string): void | Promise<void>;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Yields to the event loop once SLICE_MS has passed since the last turn. */
export class Pacer {
  private since = performance.now();
  async maybeYield(): Promise<void> {
    if (performance.now() - this.since < SLICE_MS) return;
    await nextTurn();
    this.since = performance.now();
  }
}

/**
 * The values of a run of batch items (or of one body member), parsed from the bytes so that payloads stay
 * the bytes received and the 10000-level depth limit counts from the body (src/api/decode.ts).
 */
function parseRun(body: Buffer, start: number, end: number): unknown[] {
  const values = parseApiJsonItems(body, start, end, 2);
  if (values === undefined) throw new BatchSyntaxError('malformed command or too deep');
  return values;
}

function checkedItem(v: unknown): BatchItem {
  try {
    return parseBatchItem(v);
  } catch (err) {
    if (err instanceof SchemaError) throw err;
    // A value too deep for the field readers, and the like: a bad request too.
    throw new SchemaError('invalid command');
  }
}

/**
 * Checks the whole body, in slices. Throws BatchSyntaxError (not JSON), SchemaError (wrong types) or
 * BatchTooLargeError (over `maxBatchSize` commands).
 */
export async function planBatch(body: Buffer, maxBatchSize: number): Promise<BatchPlan> {
  const scanner = new BatchScanner(body);
  const pacer = new Pacer();
  let runs: { start: number; end: number; count: number }[] = [];
  let total = 0;
  let parallel = false;
  for (let guard = 0; guard <= body.length + 1; guard++) {
    const step: BatchScanStep = scanner.next(RUN_SLICE);
    if (step.kind === 'done') break;
    if (step.kind === 'reset') {
      runs = [];
      total = 0;
      continue;
    }
    if (step.kind === 'scalar') {
      const v = parseRun(body, step.start, step.end)[0];
      // `null` decodes as an empty request, like a missing body object; any other non-object is a type error.
      if (v !== null) throw new SchemaError('invalid field body');
      continue;
    }
    if (step.kind === 'member') {
      const v = parseRun(body, step.start, step.end)[0];
      if (step.key === 'parallel') parallel = parseParallel(v);
      else if (step.key === 'commands') {
        // Not an array (arrays are handed out as items): only null is allowed.
        if (v !== null) throw new SchemaError('invalid field commands');
        runs = [];
        total = 0;
      }
      continue;
    }
    total += step.count;
    if (total > maxBatchSize) throw new BatchTooLargeError(`more than ${maxBatchSize} commands`);
    const values = parseRun(body, step.start, step.end);
    for (let i = 0; i < values.length; i++) checkedItem(values[i]);
    runs.push({ start: step.start, end: step.end, count: step.count });
    await pacer.maybeYield();
  }
  return { runs, total, parallel };
}

/**
 * Runs a checked batch and writes `{"replies":[…]}` (or `{}` for no commands) to `sink`, a slice at a time.
 * Parallel batches run each slice's commands concurrently; replies keep the commands' order.
 */
export async function runBatch(body: Buffer, plan: BatchPlan, executor: ApiExecutor, sink: BatchSink): Promise<void> {
  if (plan.total === 0) {
    await sink.write('{}');
    return;
  }
  const pacer = new Pacer();
  let first = true;
  let out = '{"replies":[';
  for (const run of plan.runs) {
    const slice = parseRun(body, run.start, run.end).map(checkedItem);
    let replies: JsonObject[];
    if (plan.parallel) {
      replies = await Promise.all(slice.map((c) => executor.batchItem(c)));
    } else {
      replies = [];
      for (const c of slice) replies.push(await executor.batchItem(c));
    }
    for (const r of replies) {
      if (!first) out += ',';
      first = false;
      out += stringifyJson(r);
    }
    await sink.write(out);
    out = '';
    await pacer.maybeYield();
  }
  await sink.write(']}');
}
