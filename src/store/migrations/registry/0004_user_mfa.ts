// Written by hand (the registry's tables are not derived from record descriptions). Once released,
// a migration never changes: add the next one instead (`npm run migrations:generate -- --registry`).
//
// Issue 13, multi-factor authentication (contract 6.4): one row per user who has started or
// finished a TOTP device setup. Secrets are kept only encrypted (AES-256-GCM, see
// src/auth/mfa-secrets.ts); the row goes with its user (ON DELETE CASCADE).
export default {
  version: 4,
  name: "user mfa",
  statements: [
    `CREATE TABLE user_mfa (
  client_id text COLLATE "C" NOT NULL,
  username text COLLATE "C" NOT NULL,
  -- From /mfa-setup until a right code reaches /mfa-verify-setup (encrypted); wrong codes counted.
  pending_secret text,
  pending_tries integer NOT NULL DEFAULT 0,
  -- The verified device's secret (encrypted) and the name the user gave it.
  secret text,
  device_name text,
  enabled boolean NOT NULL DEFAULT false,
  -- The TOTP time step of the last code accepted: a code of that step or an earlier one is a replay.
  last_step bigint,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, username),
  FOREIGN KEY (client_id, username) REFERENCES users (client_id, username) ON DELETE CASCADE
)`,
  ],
};
