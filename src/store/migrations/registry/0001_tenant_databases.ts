// Written by hand (the registry's tables are not derived from record descriptions). Once released,
// a migration never changes: add the next one instead (`npm run migrations:generate -- --registry`).
export default {
  version: 1,
  name: "tenant databases",
  statements: [
    `CREATE TABLE databases (
  id serial PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  -- PGlite: a directory under <data dir>/databases; PostgreSQL: a database name on the
  -- registry's server; external: a connection URL given by the operator.
  location text NOT NULL,
  external boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
  ],
};
