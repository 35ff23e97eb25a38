import type { FastifyRequest } from 'fastify';
import type { Identity } from '../auth/tokens.js';
import type { Database } from '../store/database.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, proven by the bearer token; read by the audit fields and the tenancy check. */
    identity: Identity | null;
    /** The tenant database named by `vbasoftware-database`, set by the tenancy hook. */
    tenant: Database;
  }
}

/** The request's path as the client sent it (before any rewrite), without its query string (the problem details' `instance`). */
export const pathOf = (request: FastifyRequest): string => request.originalUrl.split('?', 1)[0] ?? '';
