import type { Database } from '../store/database.js';

/** Who is calling: set by authentication, read by the audit fields and the tenancy check. */
export interface Identity {
  readonly username: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Null until authentication (a separate plugin) establishes it. */
    identity: Identity | null;
    /** The tenant database named by `vbasoftware-database`, set by the tenancy hook. */
    tenant: Database;
  }
}
