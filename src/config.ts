/** Environment → typed configuration, read once and checked up front (fail fast, one clear line). */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** Embedded store's directory (one PGlite data directory per database). */
  readonly dataDir: string;
  /** When set, PostgreSQL is the store: this database holds the registry, tenants are its siblings. */
  readonly databaseUrl: string | undefined;
  readonly maxBatchRecords: number;
  readonly maxBodyBytes: number;
  readonly logLevel: string;
}

export class ConfigError extends Error {}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(', ')}`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0, 65_535),
    dataDir: env.VBAPI_DATA_DIR || './data',
    databaseUrl: env.DATABASE_URL || undefined,
    maxBatchRecords: integer(env, 'VBAPI_MAX_BATCH_RECORDS', 10_000, 1, 1_000_000),
    maxBodyBytes: integer(env, 'VBAPI_MAX_BODY_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    logLevel,
  };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}
