// Written by hand (the registry's tables are not derived from record descriptions). Once released,
// a migration never changes: add the next one instead (`npm run migrations:generate -- --registry`).
export default {
  version: 2,
  name: "clients, API keys, users, database grants, settings",
  statements: [
    `CREATE TABLE clients (
  id text COLLATE "C" PRIMARY KEY,
  code text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
    `CREATE TABLE api_keys (
  id text COLLATE "C" PRIMARY KEY,
  client_id text COLLATE "C" NOT NULL REFERENCES clients (id),
  -- The first characters of the key, to recognise it; the key itself is only kept as a hash.
  prefix text COLLATE "C" NOT NULL,
  hash text COLLATE "C" NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
)`,
    `CREATE TABLE users (
  client_id text COLLATE "C" NOT NULL REFERENCES clients (id),
  username text COLLATE "C" NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, username)
)`,
    `CREATE TABLE user_databases (
  client_id text COLLATE "C" NOT NULL,
  username text COLLATE "C" NOT NULL,
  database_id integer NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
  PRIMARY KEY (client_id, username, database_id),
  FOREIGN KEY (client_id, username) REFERENCES users (client_id, username) ON DELETE CASCADE
)`,
    `CREATE TABLE settings (name text COLLATE "C" PRIMARY KEY, value text NOT NULL)`,
  ],
};
