// Admission of the HTTP-based connection endpoints (http_stream, sse, uni_sse, uni_http_stream): the same checks as
// WebSocket upgrades (transports/admission.ts) on the same limits, answered with 503 and a jittered Retry-After.
// Open streams are counted here; the WebSocket handler adds them to its own count, so client.connection_limit
// holds for all transports together.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ClientConfig, GyreConfig } from '../config/types.js';
import { metrics } from '../metrics/registry.js';
import type { FdWatch } from '../metrics/fds.js';
import { rejectionLogFor } from '../util/rejection-log.js';
import type { RejectionLog } from '../util/rejection-log.js';
import { Admission, admissionLimits, countRefusal, jitteredRetryAfter, refuseBusy, type RefusalReason } from './admission.js';
import type { RateBucket } from './rate-bucket.js';
import type { SessionAcceptor } from './types.js';

type ClientKeys = 'connection_limit' | 'connection_rate_limit' | 'ip_connection_limit';
type ServerKeys = 'max_handshakes_in_flight' | 'handshake_wait_budget';

export interface HttpGateOptions {
  client: Pick<ClientConfig, ClientKeys>;
  server?: Pick<GyreConfig['http_server'], ServerKeys> | undefined;
  acceptor: SessionAcceptor;
  logger: Logger;
  fds?: FdWatch | undefined;
  /** Connections of the other transports (WebSocket) for the node-wide limit. */
  otherOpen?: () => number;
  /** Worker processes accepting on the port (node.workers; default 1): they split client.connection_rate_limit. */
  processes?: number;
  /** client.connection_rate_limit's bucket, shared with WebSocket upgrades (an own one when absent). */
  rateBucket?: RateBucket | undefined;
}

export class HttpGate {
  private readonly admission: Admission;
  private readonly rejections: RejectionLog;
  private openStreams = 0;

  constructor(private readonly opts: HttpGateOptions) {
    this.rejections = rejectionLogFor(opts.logger);
    const acceptor = opts.acceptor;
    const total = (): number => this.openStreams + (opts.otherOpen?.() ?? 0);
    this.admission = new Admission(
      admissionLimits(opts.client, opts.server, opts.processes),
      {
        open: total,
        inFlight: () => Math.max(0, total() - (acceptor.connectedClients ?? total())),
        shuttingDown: () => acceptor.shuttingDown,
      },
      opts.fds,
      undefined,
      opts.rateBucket,
    );
  }

  /** Open streaming connections. */
  get open(): number {
    return this.openStreams;
  }

  reconfigure(client: Pick<ClientConfig, ClientKeys>): void {
    this.admission.reconfigure(admissionLimits(client, this.opts.server, this.opts.processes));
  }

  /**
   * True: admitted, and counted until `res` closes. False: answered 503 (counted and logged through the
   * rate-limited rejection log).
   */
  admit(res: ServerResponse, remote: string | undefined, transport: string): boolean {
    const refused = this.check(remote, transport);
    if (refused !== null) {
      countRefusal(refused);
      const body = `Service Unavailable: ${refused}`;
      res.writeHead(503, {
        'Retry-After': String(jitteredRetryAfter()),
        'Content-Type': 'text/plain',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
      return false;
    }
    this.track(res, remote);
    return true;
  }

  /** The same for an upgrade request (uni_websocket): refused with 503 on the raw socket before any 101. */
  admitUpgrade(socket: Duplex, remote: string | undefined, transport: string): boolean {
    const refused = this.check(remote, transport);
    if (refused !== null) {
      refuseBusy(socket, refused);
      return false;
    }
    this.track(socket, remote);
    return true;
  }

  private check(remote: string | undefined, transport: string): RefusalReason | null {
    const refused = this.admission.check(remote);
    if (refused === null) return null;
    metrics.handshakeRejected.labels(refused).inc();
    this.rejections.note('handshake', refused === 'connection_limit' ? 'connection limit reached' : `busy: ${refused}`, {
      status: 503,
      reason: refused,
      remote,
      transport,
    });
    return refused;
  }

  private track(c: { once(event: 'close', listener: () => void): unknown }, remote: string | undefined): void {
    this.admission.admitted(c, remote);
    this.openStreams++;
    c.once('close', () => this.openStreams--);
  }

  close(): void {
    this.admission.close();
  }
}
