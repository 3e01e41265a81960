// The Transport seam: one live connection as the core sees it.
import type { Disconnect } from '../protocol/errors.js';
import type { ProtocolFormat } from '../protocol/types.js';
import type { EmulationRequest } from '../protocol/emulation.js';

/** Transport names as Centrifugo reports them (metrics labels, logs). */
export type TransportName =
  | 'websocket'
  | 'http_stream'
  | 'sse'
  | 'uni_websocket'
  | 'uni_sse'
  | 'uni_http_stream'
  | 'uni_grpc';

export interface TransportInfo {
  readonly name: TransportName;
  readonly protocol: ProtocolFormat;
  /** Server → client only: pushes go out bare (no Reply wrapper), the connect result as a `connect` push. */
  readonly unidirectional: boolean;
  /**
   * Bidirectional emulation (HTTP-streaming, SSE): client → server commands arrive through `/emulation`, so
   * the connect result carries the session id and this node's id.
   */
  readonly emulation?: boolean;
  /**
   * A `disconnect` push is written before the transport closes (default: for emulation and unidirectional
   * transports; uni_websocket.disable_disconnect_push turns it off there).
   */
  readonly disconnectPush?: boolean;
  /** ms between server pings on this transport, overriding client.ping_interval (uni_grpc: Centrifugo's fixed 25 s). */
  readonly pingInterval?: number;
  readonly remoteAddress: string;
  /** Request headers of the upgrade (lower-cased names), for user_id_http_header and proxies later. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface Transport {
  readonly info: TransportInfo;
  /** Enqueue one transport frame (already joined by the codec). Never blocks, never throws. */
  write(frame: Uint8Array): void;
  /** Optional: hold the writes that follow until `uncork` and hand them to the kernel together. */
  cork?(): void;
  uncork?(): void;
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
  /**
   * A unidirectional connect failed before anything was written. A transport that answers it itself (an HTTP
   * status instead of a stream) does so and returns true; the session then writes no disconnect push.
   */
  rejectConnect?(code: number, text: string): boolean;
}

/** The node as transports see it: it makes a session for each new connection. */
export interface SessionAcceptor {
  /** True once shutdown started: transports close new connections with 3001. */
  readonly shuttingDown: boolean;
  /** Sessions past their connect reply (admission counts the others as handshakes in flight). */
  readonly connectedClients?: number;
  accept(transport: Transport): SessionPort;
  /**
   * Delivers an `/emulation` request to the node owning its session (this one or another, over the control
   * plane). 'ok' also when that node has no such session (dropped there, as in Centrifugo).
   */
  emulate?(req: EmulationRequest): Promise<EmulationOutcome>;
}

/** ok ⇒ 204, node_not_found ⇒ 404, failed (bus error, no answer in time) ⇒ 500. */
export type EmulationOutcome = 'ok' | 'node_not_found' | 'failed';

/** What a transport feeds: the session created for it by the node. */
export interface SessionPort {
  /** One inbound transport frame. Never throws. */
  handleFrame(frame: Uint8Array): void;
  /** The transport is gone (peer closed, error). Idempotent. */
  handleTransportClose(): void;
}
