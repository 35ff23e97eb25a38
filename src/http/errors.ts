import type { FieldError } from '../derive/validate.js';
import { HEADER } from './headers.js';

/** The one error type handlers throw; the error handler turns it into the contract's envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: readonly FieldError[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, errors?: readonly FieldError[]) => new ApiError(400, message, errors);
export const forbidden = (message: string) => new ApiError(403, message);
export const notFound = (message: string) => new ApiError(404, message);
export const payloadTooLarge = (message: string) => new ApiError(413, message);
/** 503; when `cause` says when to retry (a connection budget exhausted), `Retry-After` says it too. */
export function unavailable(message: string, cause?: unknown): ApiError {
  const retryAfter = (cause as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (typeof retryAfter !== 'number') return new ApiError(503, message);
  return new ApiError(503, `${message} (retry after ${retryAfter} s)`, undefined, { [HEADER.retryAfter]: String(retryAfter) });
}
