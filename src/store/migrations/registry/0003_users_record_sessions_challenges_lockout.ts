// Written by hand (the registry's tables are not derived from record descriptions). Once released,
// a migration never changes: add the next one instead (`npm run migrations:generate -- --registry`).
//
// Issue 13: the vendor's `Users` record lives in the registry's `users` table (the profile fields
// as columns under their vendor names); existing users, their password hashes and grants carry
// over, their passwords stay permanent ones. Sessions, login challenges and login failures get
// their own tables.
export default {
  version: 3,
  name: "users record, sessions, challenges, lockout",
  statements: [
    `ALTER TABLE users
  ADD COLUMN "address" text,
  ADD COLUMN "address2" text,
  ADD COLUMN "administrator" boolean NOT NULL DEFAULT false,
  ADD COLUMN "audit_User" boolean NOT NULL DEFAULT false,
  ADD COLUMN "can_Set_Allowed" text,
  ADD COLUMN "can_Set_Co_Ins" text,
  ADD COLUMN "can_Set_Not_Covered" text,
  ADD COLUMN "city" text,
  ADD COLUMN "claim_Maximum" double precision,
  ADD COLUMN "country_ID" text,
  ADD COLUMN "eMail_Address" text,
  ADD COLUMN "fax" text,
  ADD COLUMN "fax_Country_Code" text,
  ADD COLUMN "grace_Logins" integer,
  ADD COLUMN "home_Phone" text,
  ADD COLUMN "home_Phone_Country_Code" text,
  ADD COLUMN "iD_Card_Notification" boolean NOT NULL DEFAULT false,
  ADD COLUMN "is_SSO_User" boolean NOT NULL DEFAULT false,
  ADD COLUMN "login_Sound" text,
  ADD COLUMN "name" text,
  ADD COLUMN "nav_ID_Color" integer,
  ADD COLUMN "nav_ID_Type" text,
  ADD COLUMN "nav_ID_Underline" boolean NOT NULL DEFAULT false,
  ADD COLUMN "phone" text,
  ADD COLUMN "phone_Country_Code" text,
  ADD COLUMN "ssO_User_Name" text,
  ADD COLUMN "single_Use_Account" boolean NOT NULL DEFAULT false,
  ADD COLUMN "state" text,
  ADD COLUMN "title" text,
  ADD COLUMN "use_Windows_Authentication" boolean NOT NULL DEFAULT false,
  ADD COLUMN "user_Idle" integer,
  ADD COLUMN "user_Type" text,
  ADD COLUMN "vbA_User" boolean NOT NULL DEFAULT false,
  ADD COLUMN "zip_Code" text,
  ADD COLUMN "entry_User" text,
  ADD COLUMN "update_Date" timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN "update_User" text,
  -- A temporary password must be replaced at the next login (NEW_PASSWORD_REQUIRED); existing
  -- users' passwords were chosen by their operator and stay permanent.
  ADD COLUMN password_temporary boolean NOT NULL DEFAULT false,
  ADD COLUMN disabled boolean NOT NULL DEFAULT false`,
    // The record requires an e-mail address; users made before it had none. A reserved domain
    // (RFC 2606 .invalid) says so rather than inventing a deliverable address.
    `UPDATE users SET "eMail_Address" = CASE WHEN username LIKE '%@%' THEN username ELSE username || '@users.invalid' END, "update_Date" = created_at`,
    `ALTER TABLE users ALTER COLUMN "eMail_Address" SET NOT NULL`,
    `CREATE TABLE sessions (
  id text COLLATE "C" PRIMARY KEY,
  client_id text COLLATE "C" NOT NULL,
  username text COLLATE "C" NOT NULL,
  database text COLLATE "C" NOT NULL,
  -- SHA-256 of the current refresh token; the token itself is never stored.
  refresh_hash text COLLATE "C" NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  refreshed_at timestamptz,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text,
  FOREIGN KEY (client_id, username) REFERENCES users (client_id, username) ON DELETE CASCADE
)`,
    `CREATE INDEX sessions_user ON sessions (client_id, username)`,
    // Refresh tokens already exchanged: presenting one again is reuse, and ends its session.
    `CREATE TABLE used_refresh_tokens (
  hash text COLLATE "C" PRIMARY KEY,
  session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE
)`,
    `CREATE INDEX used_refresh_tokens_session ON used_refresh_tokens (session_id)`,
    // Login challenges (NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA): single-use, short-lived.
    `CREATE TABLE challenges (
  hash text COLLATE "C" PRIMARY KEY,
  client_id text COLLATE "C" NOT NULL,
  username text COLLATE "C" NOT NULL,
  database text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  tries integer NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL,
  FOREIGN KEY (client_id, username) REFERENCES users (client_id, username) ON DELETE CASCADE
)`,
    // Failed logins per client and username, known or not, so that unknown users lock out the same way.
    `CREATE TABLE login_failures (
  client_id text COLLATE "C" NOT NULL,
  username text COLLATE "C" NOT NULL,
  failures integer NOT NULL,
  window_start timestamptz NOT NULL,
  locked_until timestamptz,
  PRIMARY KEY (client_id, username)
)`,
  ],
};
