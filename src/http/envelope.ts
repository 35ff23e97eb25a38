import { STATUS_CODES } from 'node:http';
import type { FieldError } from '../derive/validate.js';

/** Every JSON response: `{data, error, debug: {activityID}}` — exactly one of data/error is non-null. */
export interface Envelope<T> {
  readonly data: T | null;
  readonly error: ProblemDetails | null;
  readonly debug: { readonly activityID: string };
}

/** RFC 9457 problem details, plus `errors` naming each invalid field. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly errors?: readonly FieldError[];
}

export const success = <T>(activityID: string, data: T): Envelope<T> => ({ data, error: null, debug: { activityID } });

export function failure(
  activityID: string,
  status: number,
  detail: string,
  instance: string,
  errors?: readonly FieldError[],
): Envelope<never> {
  return {
    data: null,
    error: {
      type: 'about:blank',
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      instance,
      ...(errors ? { errors } : {}),
    },
    debug: { activityID },
  };
}
