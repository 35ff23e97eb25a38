import { STATUS_CODES } from 'node:http';
import type { Envelope, FieldError } from '../derive/shapes.js';

export type { Envelope, ProblemDetails } from '../derive/shapes.js';

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
      ...(errors ? { errors: [...errors] } : {}),
    },
    debug: { activityID },
  };
}
