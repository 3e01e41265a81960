// HTTP entry point of the server API (docs/protocol.md §6.1): routing per method, POST only, API-key auth,
// body decoding, response envelopes and the transport error mode.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { GyreConfig } from '../config/types.js';
import type { NodeApi } from '../core/types.js';
import { BodyTooLargeError, readBody } from '../http/body.js';
import type { DirectReply, DirectRequest, DirectTarget } from '../http/direct.js';
import type { Router } from '../http/router.js';
import { sendEmpty, sendJson, sendText } from '../http/router.js';
import { ApiError } from '../protocol/errors.js';
import { splitUrl } from '../http/url.js';
import { BatchTooLargeError, planBatch, runBatch } from './batch.js';
import { BatchSyntaxError } from './batch-scan.js';
import { parseApiJson } from './decode.js';
import { ApiErrors, SchemaError, errorBody, transportErrorStatus } from './errors.js';
import { ApiExecutor } from './executor.js';
import { stringifyJson } from './json.js';
import { parseLegacy, runLegacy } from './legacy.js';
import { API_METHODS, parseCommand } from './schemas.js';
import type { ApiMethod, CommandMethod } from './schemas.js';

export const DEFAULT_API_BODY_LIMIT = 10 * 1024 * 1024;
/** Batches of at most this many commands are answered in one piece (Content-Length); larger ones are streamed. */
const BUFFERED_BATCH = 1000;

/** A streamed 200 JSON response; `write` waits for 'drain' when the client reads slower than replies come. */
class ResponseSink {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
  }

  write(chunk: string): void | Promise<void> {
    const res = this.res;
    if (res.destroyed || res.write(chunk)) return;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
}

export interface ApiHandlerOptions {
  config: GyreConfig['http_api'];
  node: NodeApi;
  logger: Logger;
  /** True once the node shuts down (the legacy endpoint answers 503 then). */
  isShuttingDown: () => boolean;
  /** Overrides `config.max_request_body_size`. */
  bodyLimit?: number;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}

/** Request headers with lower-cased names, as `IncomingMessage#headers` has them. */
type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** The presented key: X-API-Key, else `Authorization: apikey <key>`, else `?api_key=`. */
export function presentedApiKey(headers: Headers, url: string | undefined): string {
  const direct = header(headers, 'x-api-key');
  if (direct !== '') return direct;
  const auth = header(headers, 'authorization');
  if (auth !== '') {
    const parts = auth.split(' ');
    if (parts.length === 2 && (parts[0] ?? '').toLowerCase() === 'apikey' && parts[1] !== '') return parts[1] ?? '';
  }
  const { query } = splitUrl(url);
  return query === '' ? '' : (new URLSearchParams(query).get('api_key') ?? '');
}

/** The answer to one method request, written by the http.Server path or by the front (DirectTarget). */
type MethodReply = DirectReply;

const BAD_REQUEST: MethodReply = { status: 400, contentType: 'text/plain; charset=utf-8', body: 'Bad Request' };
const UNAUTHORIZED: MethodReply = { status: 401, body: '' };

function jsonReply(status: number, body: string): MethodReply {
  return { status, contentType: 'application/json', body };
}

function sendReply(res: ServerResponse, r: MethodReply): void {
  if (r.contentType === undefined) sendEmpty(res, r.status);
  else if (r.contentType === 'application/json') sendJson(res, r.status, r.body);
  else sendText(res, r.status, r.body);
}

export class ApiHandler {
  private readonly executor: ApiExecutor;
  private bodyLimit: number;
  /** key, insecure, error_mode and the size bounds as of the last config reload (handler_prefix is fixed at start-up). */
  private auth: Pick<GyreConfig['http_api'], 'key' | 'insecure' | 'error_mode'>;
  private maxBatchSize: number;

  constructor(private readonly opts: ApiHandlerOptions) {
    this.executor = new ApiExecutor(opts.node, opts.logger);
    this.bodyLimit = opts.bodyLimit ?? opts.config.max_request_body_size;
    this.maxBatchSize = opts.config.max_batch_size;
    this.auth = opts.config;
  }

  /** Config reload: the API key, http_api.insecure, the error mode and the body/batch bounds apply to the next request. */
  reconfigure(config: Pick<GyreConfig['http_api'], 'key' | 'insecure' | 'error_mode' | 'max_request_body_size' | 'max_batch_size'>): void {
    this.auth = config;
    if (this.opts.bodyLimit === undefined) this.bodyLimit = config.max_request_body_size;
    this.maxBatchSize = config.max_batch_size;
  }

  /** Registers `<prefix>/<method>` for every method and the legacy `<prefix>` endpoint. */
  register(router: Router): void {
    const prefix = this.opts.config.handler_prefix.replace(/\/+$/, '');
    for (const m of API_METHODS) router.add(`${prefix}/${m}`, (req, res) => this.serve(req, res, m));
    router.add(prefix === '' ? '/' : prefix, (req, res) => this.serve(req, res, 'legacy'));
  }

  /**
   * The method endpoints for the listening front (src/http/front.ts), which answers them on its own without
   * Node's http machinery: the same replies as through the http.Server. `/batch` (it may stream) and the
   * legacy endpoint stay with the http.Server.
   */
  directTarget(): DirectTarget {
    const prefix = this.opts.config.handler_prefix.replace(/\/+$/, '');
    const methods = new Map<string, CommandMethod>();
    for (const m of API_METHODS) if (m !== 'batch') methods.set(`${prefix}/${m}`, m);
    return new ApiDirectTarget(this, methods);
  }

  /** The front's request: auth, then the method reply; failures are 500 replies. */
  serveDirect(method: CommandMethod, req: DirectRequest): Promise<DirectReply> {
    if (!this.authorized(req.headers, req.url)) return Promise.resolve(UNAUTHORIZED);
    return this.methodReply(method, req.body, req.headers).catch((err: unknown) => {
      this.opts.logger.error({ err }, 'server API request failed');
      return { status: 500, contentType: 'text/plain; charset=utf-8', body: 'Internal Server Error' };
    });
  }

  get directBodyLimit(): number {
    return this.bodyLimit;
  }

  private authorized(headers: Headers, url: string | undefined): boolean {
    const cfg = this.auth;
    if (cfg.insecure) return true;
    if (cfg.key === '') return false;
    const key = presentedApiKey(headers, url);
    return key !== '' && safeEqual(key, cfg.key);
  }

  private serve(req: IncomingMessage, res: ServerResponse, method: ApiMethod | 'legacy'): void {
    if (req.method !== 'POST') {
      req.resume();
      sendEmpty(res, 405); // Centrifugo: empty body, no content type
      return;
    }
    if (!this.authorized(req.headers, req.url)) {
      req.resume();
      sendEmpty(res, 401);
      return;
    }
    this.process(req, res, method).catch((err: unknown) => {
      this.opts.logger.error({ err }, 'server API request failed');
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  }

  private async process(req: IncomingMessage, res: ServerResponse, method: ApiMethod | 'legacy'): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, this.bodyLimit);
    } catch (err) {
      if (err instanceof BodyTooLargeError) sendText(res, 413, 'Request Entity Too Large', { Connection: 'close' });
      else sendText(res, 500, 'Internal Server Error');
      return;
    }
    if (method === 'legacy') {
      await this.legacy(res, body);
      return;
    }
    if (method === 'batch') {
      await this.batch(res, body);
      return;
    }
    sendReply(res, await this.methodReply(method, body, req.headers));
  }

  /** One method request with its body read: decode, check, run, and the reply (400 for a malformed body). */
  private async methodReply(method: CommandMethod, body: Buffer, headers: Headers): Promise<MethodReply> {
    const parsed = parseApiJson(body);
    if (!parsed.ok) return BAD_REQUEST;
    let cmd;
    try {
      cmd = parseCommand(method, parsed.value);
    } catch (err) {
      if (err instanceof SchemaError) return BAD_REQUEST;
      throw err;
    }
    try {
      const result = await this.executor.run(cmd);
      return jsonReply(200, stringifyJson({ result }));
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : ApiErrors.internal();
      if (this.transportErrorMode(headers)) return jsonReply(transportErrorStatus(apiErr.code), stringifyJson(errorBody(apiErr)));
      return jsonReply(200, stringifyJson({ error: errorBody(apiErr) }));
    }
  }

  /** `/api/batch`, checked then run a slice at a time (src/api/batch.ts); large responses are streamed. */
  private async batch(res: ServerResponse, body: Buffer): Promise<void> {
    let plan;
    try {
      plan = await planBatch(body, this.maxBatchSize);
    } catch (err) {
      if (err instanceof SchemaError || err instanceof BatchSyntaxError || err instanceof BatchTooLargeError) {
        return sendText(res, 400, 'Bad Request');
      }
      throw err;
    }
    if (plan.total <= BUFFERED_BATCH) {
      let out = '';
      await runBatch(body, plan, this.executor, { write: (chunk) => void (out += chunk) });
      sendJson(res, 200, out);
      return;
    }
    const sink = new ResponseSink(res);
    await runBatch(body, plan, this.executor, sink);
    res.end();
  }

  private transportErrorMode(headers: Headers): boolean {
    return this.auth.error_mode === 'transport' || header(headers, 'x-centrifugo-error-mode').toLowerCase() === 'transport';
  }

  private async legacy(res: ServerResponse, body: Buffer): Promise<void> {
    if (this.opts.isShuttingDown()) return sendText(res, 503, 'Service Unavailable');
    const commands = body.byteLength === 0 ? undefined : parseLegacy(body);
    if (commands === undefined || commands.length === 0 || commands.length > this.maxBatchSize) {
      return sendText(res, 400, 'Bad Request');
    }
    sendJson(res, 200, await runLegacy(commands, this.executor));
  }
}

/**
 * The method endpoints as the front's DirectTarget. A class, not closures made per handler: the start-up
 * warm-up runs a private copy of the server first, and V8 code optimised on the copy's calls stays valid for
 * the real node's only when both call the same functions (per-instance closures made the real node's first
 * requests deoptimise it).
 */
class ApiDirectTarget implements DirectTarget {
  constructor(
    private readonly handler: ApiHandler,
    private readonly methods: ReadonlyMap<string, CommandMethod>,
  ) {}

  accepts(path: string): boolean {
    return this.methods.has(path);
  }

  maxBody(): number {
    return this.handler.directBodyLimit;
  }

  serve(req: DirectRequest): Promise<DirectReply> {
    const method = this.methods.get(req.path);
    if (method === undefined) return Promise.resolve(BAD_REQUEST);
    return this.handler.serveDirect(method, req);
  }
}
