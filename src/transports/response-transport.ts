// A Transport over one streaming HTTP response (http_stream, sse, uni_http_stream, uni_sse): frames are written to
// the response in the transport's own framing, backpressure is the response's buffer, and close ends the response
// (the session has written its disconnect push just before). The peer going away closes the session.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Disconnect } from '../protocol/errors.js';
import { answerRejectedConnect, type DeferredStart } from './connect-http-response.js';
import type { ProtocolFormat } from '../protocol/types.js';
import type { SessionPort, Transport, TransportInfo, TransportName } from './types.js';

/** Writes one frame (the session's newline-joined JSON or varint-delimited protobuf messages) in wire form. */
export type FrameWriter = (res: ServerResponse, frame: Uint8Array) => void;

const NEWLINE = Buffer.from('\n');
const SSE_DATA = Buffer.from('data: ');
const SSE_END = Buffer.from('\n\n');

/** HTTP-streaming JSON: every message followed by a newline. */
export const newlineTerminated: FrameWriter = (res, frame) => {
  res.write(frame);
  res.write(NEWLINE);
};

/** HTTP-streaming protobuf: the varint-delimited messages as they are. */
export const rawFrames: FrameWriter = (res, frame) => {
  res.write(frame);
};

/** SSE: one `data:` event per JSON message (a message never holds a raw newline). */
export const sseEvents: FrameWriter = (res, frame) => {
  let start = 0;
  const n = frame.length;
  while (start <= n) {
    let end = frame.indexOf(0x0a, start);
    if (end === -1) end = n;
    if (end > start) {
      res.write(SSE_DATA);
      res.write(frame.subarray(start, end));
      res.write(SSE_END);
    }
    start = end + 1;
  }
};

class ResponseInfo implements TransportInfo {
  readonly remoteAddress: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  constructor(
    readonly name: TransportName,
    readonly protocol: ProtocolFormat,
    readonly unidirectional: boolean,
    readonly emulation: boolean,
    req: IncomingMessage,
  ) {
    this.remoteAddress = req.socket.remoteAddress ?? '';
    this.headers = req.headers;
  }
}

export class ResponseTransport implements Transport {
  readonly info: TransportInfo;
  private closed = false;
  private port: SessionPort | undefined = undefined;

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    kind: { name: TransportName; protocol: ProtocolFormat; unidirectional: boolean; emulation: boolean },
    private readonly writeFrame: FrameWriter,
    /** Set when the headers wait for the first frame (connect_code_to_http_response). */
    private deferred?: DeferredStart,
  ) {
    this.info = new ResponseInfo(kind.name, kind.protocol, kind.unidirectional, kind.emulation, req);
    res.once('close', this.onClose);
  }

  /** The session fed by this transport: told when the peer goes away. */
  attach(port: SessionPort): void {
    this.port = port;
    if (this.closed) port.handleTransportClose();
  }

  write(frame: Uint8Array): void {
    if (this.closed || this.res.writableEnded) return;
    const res = this.res;
    if (this.deferred !== undefined) {
      this.deferred.begin(res);
      this.deferred = undefined;
    }
    res.cork();
    this.writeFrame(res, frame);
    process.nextTick(uncork, res);
  }

  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  onceDrained(cb: () => void): void {
    if (this.closed || !this.res.writableNeedDrain) {
      setImmediate(cb);
      return;
    }
    const res = this.res;
    let done = false;
    const fire = (): void => {
      if (done) return;
      done = true;
      res.off('drain', fire);
      res.off('close', fire);
      cb();
    };
    res.once('drain', fire);
    res.once('close', fire);
  }

  /** Nothing is read after the initial request. */
  pauseReading(): void {}
  resumeReading(): void {}

  /** Answers a refused connect with an HTTP status while the headers still wait (see Transport). */
  rejectConnect(code: number, text: string): boolean {
    if (this.deferred === undefined || this.closed || this.res.headersSent) return false;
    const cfg = this.deferred.rejection;
    this.deferred = undefined;
    this.closed = true;
    answerRejectedConnect(this.res, cfg, code, text);
    return true;
  }

  /** The disconnect itself went out as a push (written by the session just before). */
  close(_disconnect?: Disconnect): void {
    if (this.closed) return;
    this.closed = true;
    this.res.end();
  }

  private readonly onClose = (): void => {
    this.closed = true;
    this.port?.handleTransportClose();
  };
}

function uncork(res: ServerResponse): void {
  res.uncork();
}
