// Catalogues of Centrifugo's protocol codes (docs/protocol.md §2). Numbers and messages are the wire contract.

export const ErrorCode = {
  Internal: 100,
  Unauthorized: 101,
  UnknownChannel: 102,
  PermissionDenied: 103,
  MethodNotFound: 104,
  AlreadySubscribed: 105,
  LimitExceeded: 106,
  BadRequest: 107,
  NotAvailable: 108,
  TokenExpired: 109,
  Expired: 110,
  TooManyRequests: 111,
  UnrecoverablePosition: 112,
  ConcurrentPagination: 113,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Exact reply-error messages and temporary flags of Centrifugo (docs/protocol.md §2.1). */
export const errorMessages: Readonly<Record<ErrorCode, { message: string; temporary: boolean }>> = {
  100: { message: 'internal server error', temporary: true },
  101: { message: 'unauthorized', temporary: false },
  102: { message: 'unknown channel', temporary: false },
  103: { message: 'permission denied', temporary: false },
  104: { message: 'method not found', temporary: false },
  105: { message: 'already subscribed', temporary: false },
  106: { message: 'limit exceeded', temporary: false },
  107: { message: 'bad request', temporary: false },
  108: { message: 'not available', temporary: false },
  109: { message: 'token expired', temporary: false },
  110: { message: 'expired', temporary: false },
  111: { message: 'too many requests', temporary: true },
  112: { message: 'unrecoverable position', temporary: false },
  113: { message: 'concurrent pagination', temporary: true },
};

export const DisconnectCode = {
  ConnectionClosed: 3000,
  Shutdown: 3001,
  InternalServerError: 3004,
  Expired: 3005,
  SubExpired: 3006,
  Slow: 3008,
  WriteError: 3009,
  InsufficientState: 3010,
  ForceReconnect: 3011,
  NoPong: 3012,
  TooManyRequests: 3013,
  StateInvalidated: 3014,
  InvalidToken: 3500,
  BadRequest: 3501,
  Stale: 3502,
  ForceNoReconnect: 3503,
  ConnectionLimit: 3504,
  ChannelLimit: 3505,
  InappropriateProtocol: 3506,
  PermissionDenied: 3507,
  NotAvailable: 3508,
  TooManyErrors: 3509,
} as const;
export type DisconnectCode = (typeof DisconnectCode)[keyof typeof DisconnectCode];

export const disconnectReasons: Readonly<Record<DisconnectCode, string>> = {
  3000: 'connection closed',
  3001: 'shutdown',
  3004: 'internal server error',
  3005: 'connection expired',
  3006: 'subscription expired',
  3008: 'slow',
  3009: 'write error',
  3010: 'insufficient state',
  3011: 'force reconnect',
  3012: 'no pong',
  3013: 'too many requests',
  3014: 'state invalidated',
  3500: 'invalid token',
  3501: 'bad request',
  3502: 'stale',
  3503: 'force disconnect',
  3504: 'connection limit',
  3505: 'channel limit',
  3506: 'inappropriate protocol',
  3507: 'permission denied',
  3508: 'not available',
  3509: 'too many errors',
};

export const UnsubscribeCode = {
  ServerUnsubscribe: 2000,
  InsufficientState: 2500,
  SubscriptionExpired: 2501,
  StateInvalidated: 2502,
} as const;
export type UnsubscribeCode = (typeof UnsubscribeCode)[keyof typeof UnsubscribeCode];

export const unsubscribeReasons: Readonly<Record<UnsubscribeCode, string>> = {
  2000: 'server unsubscribe',
  2500: 'insufficient state',
  2501: 'subscription expired',
  2502: 'state invalidated',
};

/** Server HTTP API error codes (docs/protocol.md §6.2); 104's message differs from the client catalogue. */
export const apiErrorMessages: Readonly<Record<number, string>> = {
  100: 'internal server error',
  102: 'unknown channel',
  104: 'not found',
  107: 'bad request',
  108: 'not available',
  112: 'unrecoverable position',
  113: 'conflict',
};
