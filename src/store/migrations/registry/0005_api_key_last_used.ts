// Written by hand (the registry's tables are not derived from record descriptions). Once released,
// a migration never changes: add the next one instead (`npm run migrations:generate -- --registry`).
//
// `vbapi key list` shows when each key was last used. Written at most once a minute per key (see
// Accounts.keyOwner), so it is "last used, to the minute", never a per-request write.
export default {
  version: 5,
  name: "api key last used",
  statements: [`ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz`],
};
