// One NATS connection per engine, shared by the broker and the controller (Centrifugo's NatsBroker is both on one
// nats.Conn). Opened by the first start(); the client reconnects for ever and resubscribes every subject itself.
// What the status stream reports is turned into two facts the parts need: `up`, and a callback after each
// reconnect (the broker then tells the core which channels may have missed publications).
import { connect } from '@nats-io/transport-node';
import type { NatsConnection, Status } from '@nats-io/transport-node';

export interface NatsConnectionOptions {
  url: string;
  dialTimeoutMs: number;
  /** Reconnect wait between attempts (jittered by the client). */
  reconnectWaitMs?: number;
  onError?: (err: unknown, what: string) => void;
}

export class NatsConnectionError extends Error {
  override readonly name = 'NatsConnectionError';
}

/** `nats://a:4222,nats://b:4222` or a single address; `host:port` is accepted too. */
export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export class NatsLink {
  private nc: NatsConnection | undefined = undefined;
  private opening: Promise<NatsConnection> | undefined = undefined;
  private readonly reconnectListeners: (() => void)[] = [];
  private closing = false;
  /** False between a disconnect and the next reconnect. */
  up = false;

  constructor(private readonly opts: NatsConnectionOptions) {}

  /** Opens the connection once; later calls share it. Rejects with NatsConnectionError when NATS is unreachable. */
  open(): Promise<NatsConnection> {
    this.opening ??= this.connect();
    return this.opening;
  }

  private async connect(): Promise<NatsConnection> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: natsServers(this.opts.url),
        timeout: this.opts.dialTimeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: this.opts.reconnectWaitMs ?? 1000,
        // Gyre's own messages come back to it like every node's (the core skips its own control messages).
        noEcho: false,
      });
    } catch (err) {
      throw new NatsConnectionError(`cannot connect to NATS at ${this.opts.url}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.nc = nc;
    this.up = true;
    void this.watch(nc);
    return nc;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) this.onStatus(s);
    } catch (err) {
      if (!this.closing) this.opts.onError?.(err, 'status');
    }
  }

  private onStatus(s: Status): void {
    if (s.type === 'disconnect') {
      this.up = false;
      if (!this.closing) this.opts.onError?.(new NatsConnectionError(`disconnected from ${s.server}`), 'disconnect');
    } else if (s.type === 'reconnect') {
      this.up = true;
      for (const l of this.reconnectListeners) l();
    } else if (s.type === 'error') {
      this.opts.onError?.(s.error, 'server error');
    } else if (s.type === 'close') {
      this.up = false;
    }
  }

  /** Called after every reconnect (the client has resubscribed by then). */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /** The open connection; throws when start() has not run or the connection is closed. */
  conn(): NatsConnection {
    const nc = this.nc;
    if (nc === undefined || nc.isClosed()) throw new NatsConnectionError('NATS connection is not open');
    return nc;
  }

  /**
   * Publishes now or throws: while disconnected the client would buffer the message and likely lose it, so, like
   * Centrifugo (nats.go with its reconnect buffer off), a publish during an outage is an error for the caller.
   */
  publish(subject: string, payload: Uint8Array): void {
    const nc = this.conn();
    if (!this.up) throw new NatsConnectionError('NATS is not connected');
    nc.publish(subject, payload);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.up = false;
    const nc = this.nc;
    if (nc === undefined) {
      if (this.opening !== undefined) await this.opening.then((c) => c.close(), () => undefined);
      return;
    }
    if (!nc.isClosed()) await nc.close();
  }
}
