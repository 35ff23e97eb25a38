import type { FastifyRequest } from 'fastify';
import type { Store } from '../store/store.js';
import { badRequest, forbidden } from './errors.js';
import { HEADER } from './headers.js';

export const DATABASE_HEADER = HEADER.database;

/**
 * Resolves `vbasoftware-database` to an open tenant database. Missing → 400. Another database than
 * the token was minted for, or one that is not registered → 403, with one message for both, so the
 * answer does not reveal which databases exist.
 */
export function tenancy(store: Store) {
  return async function resolveTenant(request: FastifyRequest): Promise<void> {
    const name = request.headers[DATABASE_HEADER];
    if (name === undefined || name === '') throw badRequest(`The ${DATABASE_HEADER} header is required`);
    const allowed = typeof name === 'string' && request.identity?.database === name;
    const database = allowed ? await store.tenant(name) : null;
    if (!database) throw forbidden('You may not use this database');
    request.tenant = database;
  };
}
