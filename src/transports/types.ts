// The Transport seam: one live connection as the core sees it.
import type { Disconnect } from '../protocol/errors.js';
import type { ProtocolFormat } from '../protocol/types.js';

export interface TransportInfo {
  readonly name: 'websocket';
  readonly protocol: ProtocolFormat;
  readonly unidirectional: boolean;
  readonly remoteAddress: string;
  /** Request headers of the upgrade (lower-cased names), for user_id_http_header and proxies later. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface Transport {
  readonly info: TransportInfo;
  /** Enqueue one transport frame (already joined by the codec). Never blocks, never throws. */
  write(frame: Uint8Array): void;
  /** Bytes accepted by write() and not yet handed to the kernel (socket + sender backlog). */
  readonly bufferedBytes: number;
  /**
   * Calls `cb` once, asynchronously, when the outbound buffer has been handed to the kernel (or at once on a
   * later turn when nothing is waiting, or when the transport is closed).
   */
  onceDrained(cb: () => void): void;
  /** Stop reading inbound frames (backpressure on a client that sends faster than it is answered). */
  pauseReading(): void;
  /** Start reading again after pauseReading. */
  resumeReading(): void;
  /**
   * Close the connection. WebSocket: close frame with code and reason. `undefined` ⇒ plain close
   * (Centrifugo's 3000: no code is written to the client). Idempotent.
   */
  close(disconnect?: Disconnect): void;
}

/** The node as transports see it: it makes a session for each new connection. */
export interface SessionAcceptor {
  /** True once shutdown started: transports close new connections with 3001. */
  readonly shuttingDown: boolean;
  /** Sessions past their connect reply (admission counts the others as handshakes in flight). */
  readonly connectedClients?: number;
  accept(transport: Transport): SessionPort;
}

/** What a transport feeds: the session created for it by the node. */
export interface SessionPort {
  /** One inbound transport frame. Never throws. */
  handleFrame(frame: Uint8Array): void;
  /** The transport is gone (peer closed, error). Idempotent. */
  handleTransportClose(): void;
}
