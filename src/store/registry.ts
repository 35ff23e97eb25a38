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
  {
    version: 2,
    name: 'clients, API keys, users, database grants, settings',
    up: async (tx) => {
      await tx.query(`
        CREATE TABLE clients (
          id text COLLATE "C" PRIMARY KEY,
          code text COLLATE "C" NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now()
        )`);
      await tx.query(`
        CREATE TABLE api_keys (
          id text COLLATE "C" PRIMARY KEY,
          client_id text COLLATE "C" NOT NULL REFERENCES clients (id),
          -- The first characters of the key, to recognise it; the key itself is only kept as a hash.
          prefix text COLLATE "C" NOT NULL,
          hash text COLLATE "C" NOT NULL UNIQUE,
          created_at timestamptz NOT NULL DEFAULT now(),
          revoked_at timestamptz
        )`);
      await tx.query(`
        CREATE TABLE users (
          client_id text COLLATE "C" NOT NULL REFERENCES clients (id),
          username text COLLATE "C" NOT NULL,
          password_hash text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (client_id, username)
        )`);
      await tx.query(`
        CREATE TABLE user_databases (
          client_id text COLLATE "C" NOT NULL,
          username text COLLATE "C" NOT NULL,
          database_id integer NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
          PRIMARY KEY (client_id, username, database_id),
          FOREIGN KEY (client_id, username) REFERENCES users (client_id, username) ON DELETE CASCADE
        )`);
      await tx.query(`CREATE TABLE settings (name text COLLATE "C" PRIMARY KEY, value text NOT NULL)`);
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
