// Exact-path HTTP routing: one handler per path, 404 for everything else.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { splitUrl } from './url.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export class Router {
  private readonly routes = new Map<string, HttpHandler>();

  /** Registers `handler` for exactly `path` (query strings are ignored). Later registrations win. */
  add(path: string, handler: HttpHandler): this {
    this.routes.set(path, handler);
    return this;
  }

  has(path: string): boolean {
    return this.routes.has(path);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const handler = this.routes.get(splitUrl(req.url).path);
    if (handler === undefined) {
      sendText(res, 404, 'Not Found');
      return;
    }
    handler(req, res);
  };
}

export function sendText(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
  const body = Buffer.from(text);
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.byteLength,
    ...headers,
  });
  res.end(body);
}

/**
 * The body goes to `end` as a string: Node then writes status line, headers and body as one string in one
 * write, where a Buffer body costs a corked writev of two chunks (measured: the writev was a quarter of the
 * CPU of a paced API publish).
 */
export function sendJson(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}
