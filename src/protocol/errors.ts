// Typed error values carrying protocol codes. Handlers return or throw only these; every entry point maps
// anything else to internal (100 / 3004).
import {
  DisconnectCode,
  ErrorCode,
  type UnsubscribeCode,
  apiErrorMessages,
  disconnectReasons,
  errorMessages,
  unsubscribeReasons,
} from './codes.js';
import type { ProtocolErrorBody } from './types.js';

/** A reply error (Reply.error): the command fails, the connection stays. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: number,
    message: string,
    readonly temporary = false,
  ) {
    super(message);
  }
  static of(code: ErrorCode): ProtocolError {
    const e = errorMessages[code];
    return new ProtocolError(code, e.message, e.temporary);
  }
  toBody(): ProtocolErrorBody {
    return this.temporary
      ? { code: this.code, message: this.message, temporary: true }
      : { code: this.code, message: this.message };
  }
}

/** A disconnect: the connection is closed with this code and a short, non-empty reason. */
export class Disconnect extends Error {
  override readonly name = 'Disconnect';
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`disconnect ${code}: ${reason}`);
  }
  static of(code: DisconnectCode): Disconnect {
    return new Disconnect(code, disconnectReasons[code]);
  }
  /** 3000–3499, 4000–4499 and >= 5000 tell clients to reconnect. */
  get reconnect(): boolean {
    const c = this.code;
    return (c >= 3000 && c < 3500) || (c >= 4000 && c < 4500) || c >= 5000;
  }
}

export class Unsubscribe {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {}
  static of(code: UnsubscribeCode): Unsubscribe {
    return new Unsubscribe(code, unsubscribeReasons[code]);
  }
}

/** A server HTTP API error (`{"error":{code,message}}`). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: number,
    message?: string,
  ) {
    super(message ?? apiErrorMessages[code] ?? 'internal server error');
  }
}

export const Errors = {
  internal: () => ProtocolError.of(ErrorCode.Internal),
  unauthorized: () => ProtocolError.of(ErrorCode.Unauthorized),
  unknownChannel: () => ProtocolError.of(ErrorCode.UnknownChannel),
  permissionDenied: () => ProtocolError.of(ErrorCode.PermissionDenied),
  methodNotFound: () => ProtocolError.of(ErrorCode.MethodNotFound),
  alreadySubscribed: () => ProtocolError.of(ErrorCode.AlreadySubscribed),
  limitExceeded: () => ProtocolError.of(ErrorCode.LimitExceeded),
  badRequest: () => ProtocolError.of(ErrorCode.BadRequest),
  notAvailable: () => ProtocolError.of(ErrorCode.NotAvailable),
  tokenExpired: () => ProtocolError.of(ErrorCode.TokenExpired),
  expired: () => ProtocolError.of(ErrorCode.Expired),
  unrecoverablePosition: () => ProtocolError.of(ErrorCode.UnrecoverablePosition),
  concurrentPagination: () => ProtocolError.of(ErrorCode.ConcurrentPagination),
} as const;

export const Disconnects = {
  shutdown: () => Disconnect.of(DisconnectCode.Shutdown),
  internal: () => Disconnect.of(DisconnectCode.InternalServerError),
  expired: () => Disconnect.of(DisconnectCode.Expired),
  subExpired: () => Disconnect.of(DisconnectCode.SubExpired),
  slow: () => Disconnect.of(DisconnectCode.Slow),
  writeError: () => Disconnect.of(DisconnectCode.WriteError),
  insufficientState: () => Disconnect.of(DisconnectCode.InsufficientState),
  noPong: () => Disconnect.of(DisconnectCode.NoPong),
  invalidToken: () => Disconnect.of(DisconnectCode.InvalidToken),
  badRequest: () => Disconnect.of(DisconnectCode.BadRequest),
  stale: () => Disconnect.of(DisconnectCode.Stale),
  forceNoReconnect: () => Disconnect.of(DisconnectCode.ForceNoReconnect),
  connectionLimit: () => Disconnect.of(DisconnectCode.ConnectionLimit),
  channelLimit: () => Disconnect.of(DisconnectCode.ChannelLimit),
  inappropriateProtocol: () => Disconnect.of(DisconnectCode.InappropriateProtocol),
  permissionDenied: () => Disconnect.of(DisconnectCode.PermissionDenied),
  notAvailable: () => Disconnect.of(DisconnectCode.NotAvailable),
} as const;
