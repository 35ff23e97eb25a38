import type { Migration } from './migrate.js';
import { migrations } from './migrations/registry/index.js';

/** The server's own store (which tenant databases exist and where; clients, keys, users): hand-written migrations in `migrations/registry/`. */
export const registryMigrations: readonly Migration[] = migrations;

export const REGISTRY_LOCK = 0x76626172; // "vbar"

/** Tenant database names: the allow-list every `vbasoftware-database` header passes before any lookup. */
export const DATABASE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export interface RegisteredDatabase {
  readonly id: number;
  readonly name: string;
  readonly location: string;
  readonly external: boolean;
}
