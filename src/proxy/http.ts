// A proxy over HTTP (docs/proxy.md): one JSON POST per call to the endpoint, keep-alive connections, and one
// deadline for the whole exchange (connect, send, answer read), so a slow or dead backend costs the client at
// most `timeout`. A non-200 status is a failure unless http.status_to_code_transforms maps it to an error or a
// disconnect for the client. `http.tls` sets the CA, client certificate, server name and verification of
// https:// endpoints.
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { ProxyConfig } from '../config/types.js';
import { clientTls } from '../config/pem.js';
import { callTimeout, forwardedHeaders } from './headers.js';
import { decodeJsonResponse, encodeRequest } from './json.js';
import {
  ProxyCallError,
  type CallContext,
  type ProxyClient,
  type ProxyKind,
  type ProxyMessages,
  type ProxyResponse,
} from './types.js';

/** Largest answer read from a backend; a bigger one is a failure (a backend must not exhaust our memory). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export class HttpProxyClient implements ProxyClient {
  readonly protocol = 'http';
  readonly binary: boolean;
  readonly includeMeta: boolean;
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;

  /** `path` names the config block (for errors about its TLS files). */
  constructor(
    readonly name: string,
    private readonly config: ProxyConfig,
    path: string,
  ) {
    this.url = new URL(config.endpoint);
    const tls = this.url.protocol === 'https:';
    // `http.tls` applies to https:// endpoints only (Go's transport uses its TLS config for https alone).
    const tlsOptions = tls ? clientTls(config.http.tls, `${path}.http.tls`) : undefined;
    const pool = { keepAlive: true, maxSockets: 255 };
    this.agent = tls ? new HttpsAgent({ ...pool, ...tlsOptions }) : new HttpAgent(pool);
    this.send = tls ? httpsRequest : httpRequest;
    this.binary = config.binary_encoding;
    this.includeMeta = config.include_connection_meta;
  }

  get endpoint(): string {
    return this.config.endpoint;
  }

  async call<K extends ProxyKind>(kind: K, req: ProxyMessages[K]['req'], ctx: CallContext): Promise<ProxyResponse<K>> {
    const body = encodeRequest(req);
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(this.config.http.static_headers)) headers[k.toLowerCase()] = v;
    for (const [k, v] of forwardedHeaders(this.config, ctx)) headers[k] = v;
    headers['content-type'] = 'application/json';
    headers['content-length'] = body.length;
    const { status, payload } = await this.post(headers, body);
    if (status !== 200) {
      const t = this.config.http.status_to_code_transforms.find((x) => x.status_code === status);
      if (t !== undefined && t.to_error.code > 0) {
        return { error: { code: t.to_error.code, message: t.to_error.message, temporary: t.to_error.temporary } };
      }
      if (t !== undefined && t.to_disconnect.code > 0) {
        return { disconnect: { code: t.to_disconnect.code, reason: t.to_disconnect.reason } };
      }
      throw new ProxyCallError('status', `unexpected HTTP status code: ${status}`);
    }
    return decodeJsonResponse(kind, payload);
  }

  /** One POST with a deadline over the whole exchange; the socket is destroyed when it passes. */
  private post(headers: OutgoingHttpHeaders, body: Uint8Array): Promise<{ status: number; payload: Uint8Array }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: ProxyCallError | undefined, value?: { status: number; payload: Uint8Array }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err !== undefined) {
          req.destroy();
          reject(err);
        } else if (value !== undefined) resolve(value);
      };
      const req = this.send(this.url, { method: 'POST', headers, agent: this.agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) finish(new ProxyCallError('decode', 'proxy response too large'));
          else chunks.push(c);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, payload: Buffer.concat(chunks) }));
        res.on('error', (e) => finish(new ProxyCallError('transport', e.message)));
        res.on('aborted', () => finish(new ProxyCallError('transport', 'response aborted')));
      });
      const timeout = callTimeout(this.config);
      const timer = setTimeout(() => finish(new ProxyCallError('timeout', `no answer within ${timeout}ms`)), timeout);
      req.on('error', (e) => finish(new ProxyCallError('transport', e.message)));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
