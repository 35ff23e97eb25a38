// Written by `npm run migrations:generate`: every migration of this folder, in order.
import m0001 from './0001_records_tables_from_the_record.js';
import m0002 from './0002_idempotency_keys.js';

export const migrations = [m0001, m0002];
