import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError, forbidden } from '../http/errors.js';
import type { Database } from '../store/database.js';
import type { Accounts, ApiKeyOwner } from './accounts.js';
import type { Lockout } from './lockout.js';
import type { LoginLimits } from './login-limits.js';
import type { RateLimiter } from './rate-limit.js';
import type { Sessions } from './sessions.js';
import type { Identity, Tokens } from './tokens.js';
import { HEADER } from '../http/headers.js';

export interface AuthServices {
  /** The registry: users, sessions, challenges. */
  readonly registry: Database;
  readonly accounts: Accounts;
  readonly tokens: Tokens;
  readonly limiter: RateLimiter | null;
  /** Login rates per client and user, and the bounded queue for password hashes. */
  readonly logins: LoginLimits;
  /** Server-side login sessions: every bearer token must belong to one that still stands. */
  readonly sessions: Sessions;
  readonly lockout: Lockout;
}

/** One message for every credential failure: the answer never says which part was wrong. */
export const unauthorized = () => new ApiError(401, 'Missing or invalid credentials', undefined, { 'www-authenticate': 'Bearer' });

export function requireUserAgent(request: FastifyRequest): void {
  if (!request.headers['user-agent']?.trim()) throw forbidden('A User-Agent header is required');
}

/** The client of the request's `x-api-key`; 401 when there is none or it is not an active key. */
async function apiKeyOwner(request: FastifyRequest, services: AuthServices): Promise<ApiKeyOwner> {
  const key = request.headers[HEADER.apiKey];
  const owner = typeof key === 'string' && key ? await services.accounts.keyOwner(key) : null;
  if (!owner) throw unauthorized();
  return owner;
}

/** The request's API key, after taking one token from that key's rate-limit bucket (429 when it is empty). */
export async function meteredApiKeyOwner(request: FastifyRequest, services: AuthServices): Promise<ApiKeyOwner> {
  const owner = await apiKeyOwner(request, services);
  const verdict = await services.limiter?.take(owner.keyId);
  if (verdict && !verdict.allowed) {
    throw new ApiError(429, `Rate limit exceeded for this API key; retry after ${verdict.retryAfterSeconds} s`, undefined, {
      [HEADER.retryAfter]: String(verdict.retryAfterSeconds),
    });
  }
  return owner;
}

/** Every resource call: a User-Agent, an API key, and a bearer token minted for that key's client. */
export function authenticate(services: AuthServices) {
  return async function requireCredentials(request: FastifyRequest): Promise<void> {
    requireUserAgent(request);
    const owner = await meteredApiKeyOwner(request, services);
    const match = /^Bearer +(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const identity = match ? services.tokens.verify(match[1]!) : null;
    if (!identity || identity.clientId !== owner.clientId) throw unauthorized();
    // Revocation (logout, kick, disable, reset, delete, refresh-token reuse). Tokens without a
    // session (minted before sessions existed) cannot be revoked, so they are no longer accepted.
    if (!identity.sessionId || !(await services.sessions.isActive(identity.sessionId))) throw unauthorized();
    request.identity = identity;
  };
}

/** Who is calling, as the authenticated scope proved it: every bearer operation has one, with its session. */
export type Caller = Identity & { readonly sessionId: string };

/** The caller of a bearer operation (set by `authenticate`); a 401 should a handler ever run without one. */
export function caller(request: FastifyRequest): Caller {
  const identity = request.identity;
  if (!identity?.sessionId) throw unauthorized();
  return { ...identity, sessionId: identity.sessionId };
}

export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
