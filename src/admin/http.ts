// Admin endpoints as in Centrifugo v6 (internal/admin/handlers.go), under admin.handler_prefix:
//   GET  <prefix>/admin/init   {"insecure", "edition", "authenticated"} for the web UI
//   POST <prefix>/admin/auth   form or JSON `password` ⇒ {"token"}; wrong ⇒ 400, throttled per IP ⇒ 429
//   POST <prefix>/admin/api    the server API's single-endpoint form ({"method","params"} per line), with
//                              `Authorization: token <token>` (no API key needed)
// Gyre additions (same token): GET <prefix>/admin/live (NDJSON samples each second while open) and
// POST <prefix>/admin/connections {"user"} (every node's connections of a user, with `complete`). The web UI is served at
// <prefix>/admin/ (and at <prefix>/ when nothing else uses it, where Centrifugo serves its UI).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ApiExecutor } from '../api/executor.js';
import { parseLegacy, runLegacy } from '../api/legacy.js';
import type { GyreConfig } from '../config/types.js';
import type { NodeApi } from '../core/types.js';
import type { UserConnections } from '../core/user-connections.js';
import { BodyTooLargeError, readBody } from '../http/body.js';
import { sendEmpty, sendJson, sendText, type Router } from '../http/router.js';
import type { LiveSampler } from './live.js';
import { adminPrefix } from './paths.js';
import { LoginThrottle } from './throttle.js';
import { checkAdminToken, issueAdminToken, safeEqualString } from './token.js';
import type { UiAssets } from './ui-assets.js';

const AUTH_BODY_LIMIT = 1024 * 1024; // Centrifugo: 1 MB
const API_BODY_LIMIT = 10 * 1024 * 1024;

export interface AdminHandlerOptions {
  config: GyreConfig['admin'];
  node: NodeApi;
  /** Every node's connections of a user (the Connections page). */
  userConnections(user: string): Promise<UserConnections>;
  live: LiveSampler;
  ui: UiAssets;
  logger: Logger;
  throttle?: LoginThrottle;
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** The token of `Authorization: token <t>` ('' when absent or malformed). */
function presentedToken(req: IncomingMessage): string {
  const parts = header(req, 'authorization').trim().split(/\s+/);
  return parts.length === 2 && (parts[0] ?? '').toLowerCase() === 'token' ? (parts[1] ?? '') : '';
}

function passwordFrom(req: IncomingMessage, body: Buffer): string {
  const type = header(req, 'content-type').toLowerCase();
  const text = body.toString('utf8');
  if (type.startsWith('application/json')) {
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)['password'] === 'string') {
        return (v as Record<string, string>)['password'] ?? '';
      }
    } catch {
      return '';
    }
    return '';
  }
  const q = (req.url ?? '').split('?')[1] ?? '';
  return new URLSearchParams(text).get('password') ?? new URLSearchParams(q).get('password') ?? '';
}

export class AdminHandler {
  private readonly executor: ApiExecutor;
  private readonly throttle: LoginThrottle;
  private config: GyreConfig['admin'];

  constructor(private readonly opts: AdminHandlerOptions) {
    this.executor = new ApiExecutor(opts.node, opts.logger);
    this.throttle = opts.throttle ?? new LoginThrottle();
    this.config = opts.config;
    if (!opts.config.insecure && (opts.config.password === '' || opts.config.secret === '')) {
      opts.logger.error('admin.password and admin.secret must be set (or admin.insecure): the admin refuses every login');
    }
    if (opts.config.insecure) opts.logger.warn('INSECURE admin mode enabled, make sure you understand risks');
  }

  register(router: Router): void {
    const p = adminPrefix(this.opts.config.handler_prefix);
    router.add(`${p}/admin/init`, (req, res) => this.init(req, res));
    router.add(`${p}/admin/auth`, (req, res) => this.post(req, res, () => this.auth(req, res)));
    router.add(`${p}/admin/api`, (req, res) => this.post(req, res, () => this.secured(req, res, () => this.api(req, res))));
    router.add(`${p}/admin/connections`, (req, res) =>
      this.post(req, res, () => this.secured(req, res, () => this.connections(req, res))),
    );
    router.add(`${p}/admin/live`, (req, res) => this.secured(req, res, () => this.liveStream(req, res)));
    const index = (req: IncomingMessage, res: ServerResponse): void => this.opts.ui.serve('index.html', req, res);
    router.add(`${p}/admin`, index);
    router.add(`${p}/admin/`, index);
    for (const file of this.opts.ui.files()) {
      if (file !== 'index.html') router.add(`${p}/admin/${file}`, (req, res) => this.opts.ui.serve(file, req, res));
    }
    const root = `${p}/`;
    if (!router.has(root)) {
      router.add(root, (req, res) => {
        req.resume();
        res.writeHead(302, { Location: `${p}/admin/`, 'Content-Length': 0 });
        res.end();
      });
    }
  }

  private authenticated(req: IncomingMessage): boolean {
    if (this.config.insecure) return true;
    const token = presentedToken(req);
    return this.config.secret !== '' && token !== '' && checkAdminToken(this.config.secret, token) === 'ok';
  }

  private post(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    if (req.method !== 'POST') {
      req.resume();
      sendEmpty(res, 405);
      return;
    }
    next();
  }

  private secured(req: IncomingMessage, res: ServerResponse, next: () => Promise<void> | void): void {
    if (!this.authenticated(req)) {
      req.resume();
      sendEmpty(res, 401);
      return;
    }
    Promise.resolve(next()).catch((err: unknown) => {
      this.opts.logger.error({ err }, 'admin request failed');
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  }

  private init(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    sendJson(res, 200, JSON.stringify({ insecure: this.config.insecure, edition: 'oss', authenticated: this.authenticated(req) }));
  }

  private auth(req: IncomingMessage, res: ServerResponse): void {
    const ip = req.socket.remoteAddress ?? '';
    const wait = this.throttle.retryAfterMs(ip);
    if (wait > 0) {
      req.resume();
      sendText(res, 429, 'Too Many Requests', { 'Retry-After': String(Math.ceil(wait / 1000)) });
      return;
    }
    readBody(req, AUTH_BODY_LIMIT).then(
      (body) => {
        const { password, secret, token_ttl } = this.config;
        if (password === '' || secret === '') {
          this.opts.logger.error('admin.password and admin.secret must be set in configuration');
          sendText(res, 400, 'Bad Request');
          return;
        }
        if (!safeEqualString(passwordFrom(req, body), password)) {
          this.throttle.failed(ip);
          this.opts.logger.warn({ ip }, 'admin login refused: wrong password');
          sendText(res, 400, 'Bad Request');
          return;
        }
        this.throttle.succeeded(ip);
        sendJson(res, 200, JSON.stringify({ token: issueAdminToken(secret, token_ttl) }));
      },
      (err: unknown) => sendText(res, err instanceof BodyTooLargeError ? 413 : 400, 'Bad Request'),
    );
  }

  private async api(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, API_BODY_LIMIT);
    } catch (err) {
      return sendText(res, err instanceof BodyTooLargeError ? 413 : 400, 'Bad Request');
    }
    const commands = body.byteLength === 0 ? undefined : parseLegacy(body);
    if (commands === undefined || commands.length === 0) return sendText(res, 400, 'Bad Request');
    sendJson(res, 200, await runLegacy(commands, this.executor));
  }

  private async connections(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let user: unknown;
    try {
      const v: unknown = JSON.parse((await readBody(req, AUTH_BODY_LIMIT)).toString('utf8'));
      user = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['user'] : undefined;
    } catch {
      user = undefined;
    }
    if (typeof user !== 'string') return sendText(res, 400, 'Bad Request');
    sendJson(res, 200, JSON.stringify({ result: await this.opts.userConnections(user) }));
  }

  private liveStream(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.socket?.setNoDelay(true);
    const recent = this.opts.live.recent();
    if (recent.length > 0) res.write(recent.map((s) => JSON.stringify(s)).join('\n') + '\n');
    const unsubscribe = this.opts.live.subscribe((s) => {
      if (!res.destroyed && res.writableLength < 1024 * 1024) res.write(JSON.stringify(s) + '\n');
    });
    res.on('close', unsubscribe);
  }

  /** Config reload: password, secret, insecure and token lifetime apply to the next request. */
  reconfigure(config: GyreConfig['admin']): void {
    this.config = config;
  }
}
