import type { Migration } from './migrate.js';

/** The server's own store: which tenant databases exist and where they live. */
export const registryMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tenant databases',
    up: async (tx) => {
      await tx.query(`
        CREATE TABLE databases (
          id serial PRIMARY KEY,
          name text COLLATE "C" NOT NULL UNIQUE,
          -- PGlite: a directory under <data dir>/databases; PostgreSQL: a database name on the
          -- registry's server; external: a connection URL given by the operator.
          location text NOT NULL,
          external boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL DEFAULT now()
        )`);
    },
  },
];

export const REGISTRY_LOCK = 0x76626172; // "vbar"

/** Tenant database names: the allow-list every `vbasoftware-database` header passes before any lookup. */
export const DATABASE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export interface RegisteredDatabase {
  readonly id: number;
  readonly name: string;
  readonly location: string;
  readonly external: boolean;
}
