import type { FastifyRequest } from 'fastify';
import { describeErrors, type FieldError } from '../derive/validate.js';
import { badRequest } from '../http/errors.js';
import { caller, unauthorized } from './guard.js';
import { passwordProblem } from './password-policy.js';
import type { Tokens } from './tokens.js';

/**
 * The identity routes' small request bodies (a few text fields each, not records): read the same
 * way everywhere, each problem a field error, all of them refused together in one 400.
 */
export type RequestBody = Readonly<Record<string, unknown>>;

/**
 * The body as an object; anything else is a 400 naming the schema. `absent`: whether a missing
 * body reads as `{}` (routes whose fields are all optional or checked one by one) or is refused.
 */
export function objectBody(request: FastifyRequest, schemaName: string, absent: 'empty' | 'refused' = 'empty'): RequestBody {
  const body = request.body;
  if ((body === undefined || body === null) && absent === 'empty') return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`The body must be a ${schemaName} object`);
  return body as RequestBody;
}

/** A required, non-empty text field: its value, or '' with the field's error added to `errors`. */
export function requiredText(body: RequestBody, field: string, errors: FieldError[], message = 'is required'): string {
  const value = body[field];
  if (typeof value === 'string' && value !== '') return value;
  errors.push({ field, message });
  return '';
}

/** A required text field that may be empty (a previous password: a wrong one is a 401, not a 400). */
export function presentText(body: RequestBody, field: string, errors: FieldError[]): string {
  const value = body[field];
  if (typeof value === 'string') return value;
  errors.push({ field, message: 'is required' });
  return '';
}

/** A new password for `userId` that must pass the policy (6.3): its value, or '' with the field's error added. */
export function newPassword(body: RequestBody, field: string, userId: string, errors: FieldError[]): string {
  const value = body[field];
  const weak = passwordProblem(userId, value);
  if (weak === null && typeof value === 'string') return value;
  errors.push({ field, message: weak ?? 'is required' });
  return '';
}

/** A 400 listing every field error, if there is one. */
export function refuse(errors: readonly FieldError[]): void {
  if (errors.length) throw badRequest(describeErrors(errors), errors);
}

/** Generated clients send the caller's access token in some bodies; when one is there it must be the caller's. */
export function requireOwnAccessToken(tokens: Tokens, request: FastifyRequest, body: RequestBody): void {
  const { accessToken } = body;
  if (accessToken === undefined || accessToken === null || accessToken === '') return;
  const named = typeof accessToken === 'string' ? tokens.verify(accessToken) : null;
  const { username, clientId } = caller(request);
  if (named?.username !== username || named.clientId !== clientId) throw unauthorized();
}
