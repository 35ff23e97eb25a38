import type { Migration } from './migrate.js';
import { migrations } from './migrations/tenant/index.js';

/**
 * The schema of a tenant database: the committed migrations in `migrations/tenant/`, generated
 * from the record descriptions by `npm run migrations:generate` (a test fails when the
 * descriptions changed and no migration was generated).
 */
export const tenantMigrations: readonly Migration[] = migrations;

/** Advisory lock ids: arbitrary constants, one per schema kind. */
export const TENANT_LOCK = 0x76626174; // "vbat"
