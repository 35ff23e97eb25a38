// Written by `npm run migrations:generate`: every migration of this folder, in order.
import m0001 from './0001_tenant_databases.js';
import m0002 from './0002_clients_api_keys_users_grants.js';
import m0003 from './0003_users_record_sessions_challenges_lockout.js';
import m0004 from './0004_user_mfa.js';
import m0005 from './0005_api_key_last_used.js';

export const migrations = [m0001, m0002, m0003, m0004, m0005];
