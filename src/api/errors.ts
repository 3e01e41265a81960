// API error envelopes and the transport error mode status table (docs/protocol.md §6.1–6.2).
import { ApiError } from '../protocol/errors.js';
import type { ErrorOut } from './results.js';

export const ApiErrors = {
  internal: () => new ApiError(100),
  unknownChannel: () => new ApiError(102),
  notFound: () => new ApiError(104),
  badRequest: () => new ApiError(107),
  notAvailable: () => new ApiError(108),
} as const;

/** The `{code, message}` object (message omitted when empty). */
export function errorBody(err: ApiError): ErrorOut {
  return err.message === '' ? { code: err.code } : { code: err.code, message: err.message };
}

/** HTTP status of an error in transport error mode. */
export function transportErrorStatus(code: number): number {
  switch (code) {
    case 102:
    case 104:
      return 404;
    case 107:
    case 108:
      return 400;
    case 112:
      return 416;
    case 113:
      return 409;
    default:
      return 500;
  }
}

/** Request body that does not fit the method's request type (⇒ HTTP 400 `Bad Request`). */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}
