import { STATUS_CODES } from 'node:http';
import type { Envelope, FieldError } from '../derive/shapes.js';

export type { Envelope, ProblemDetails } from '../derive/shapes.js';

export const success = <T>(activityID: string, data: T): Envelope<T> => ({ data, error: null, debug: { activityID } });

/** The same envelope as JSON text around data that already is JSON text (a record the database wrote). */
export const successText = (activityID: string, dataJson: string): string =>
  `{"data":${dataJson},"error":null,"debug":{"activityID":${JSON.stringify(activityID)}}}`;

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
