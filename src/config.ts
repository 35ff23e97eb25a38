import { availableParallelism } from 'node:os';
import { DEFAULT_MAX_TEXT_CHARS } from './derive/validate.js';
import { DEFAULT_BATCH_CHUNK_ROWS } from './resources/batch-order.js';
import { DEFAULT_PGLITE_SHARED_BUFFERS_MB } from './store/pglite.js';
import { getHeapStatistics } from 'node:v8';

/** Environment → typed configuration, read once and checked up front (fail fast, one clear line). */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** Embedded store's directory (one PGlite data directory per database). */
  readonly dataDir: string;
  /** When set, PostgreSQL is the store: this database holds the registry, tenants are its siblings. */
  readonly databaseUrl: string | undefined;
  readonly maxBatchRecords: number;
  /** Records of a batch validated, encoded and handed to the database at a time (the pipeline's chunk). */
  readonly batchChunkRows: number;
  readonly maxBodyBytes: number;
  /** Cap of text fields the vendor gives no maximum (`notes`), in characters. */
  readonly maxTextChars: number;
  /**
   * Memory all request bodies may hold at once (being received, decoded, parsed or handled): their
   * decoded bytes plus an estimate of what their JSON values cost on the heap. Past it, requests wait
   * briefly, then get 503.
   */
  readonly maxInflightBodyBytes: number;
  /** Deepest nesting of arrays/objects a JSON body may have (a batch needs 2). */
  readonly maxJsonDepth: number;
  /** Total size of a request's headers. */
  readonly maxHeaderBytes: number;
  /** Time to receive a whole request. */
  readonly requestTimeoutMs: number;
  /** PostgreSQL: a statement running longer is cancelled (→ 503); 0 = no limit. */
  readonly statementTimeoutMs: number;
  /** PostgreSQL: statements with parameters as named prepared statements (parsed and planned once per connection). */
  readonly pgPreparedStatements: boolean;
  /** Embedded store: PostgreSQL's shared_buffers of each open PGlite database (registry and tenants), in MiB. */
  readonly pgliteSharedBuffersMb: number;
  /** SIGTERM/SIGINT: time to drain requests and close the stores before exiting non-zero anyway. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  /** `pretty` (human-readable lines), `json`, or `auto`: pretty on a terminal, JSON otherwise. */
  readonly logFormat: 'json' | 'pretty' | 'auto';
  /** Bearer token that `GET /metrics` requires on the API's port; unset with no metrics port = no /metrics. */
  readonly metricsToken: string | undefined;
  /** A separate port serving only `GET /metrics`, without a token (bind it where only Prometheus reaches). */
  readonly metricsPort: number | undefined;
  /** HS256 signing key for tokens; unset = generated once and kept in the registry. */
  readonly jwtSecret: string | undefined;
  /** AES-256 key (32 bytes) that encrypts MFA secrets at rest; unset = generated once and kept in the registry. */
  readonly secretKey: Buffer | undefined;
  readonly tokenLifetimeSeconds: number;
  /** Per API key; null = off. */
  readonly rateLimit: RateLimitConfig | null;
  /** When set, rate-limit buckets live in Redis and are shared by every server instance. */
  readonly redisUrl: string | undefined;
  /** Connections this process may hold to one PostgreSQL server (registry and every tenant together). */
  readonly pgMaxConnections: number;
  /** How long a request waits for a PostgreSQL connection before a 503 with Retry-After. */
  readonly pgAcquireTimeoutMs: number;
  /** A tenant unused this long gives back its connections (PostgreSQL) or is closed (embedded). */
  readonly tenantIdleSeconds: number;
  /** Embedded databases open at once; the least recently used idle one is closed to open another. */
  readonly maxOpenTenants: number;
  /** How long a batch answer stays replayable under its Idempotency-Key. */
  readonly idempotencyTtlSeconds: number;
  /** Logins per client (all its keys and users together); null = off. */
  readonly loginRate: RateLimitConfig | null;
  /** Logins per username of a client; null = off. */
  readonly loginUserRate: RateLimitConfig | null;
  /** How long a login session (its rotating refresh token) lives, in days. */
  readonly refreshTokenDays: number;
  /** Failed logins of one username within `lockoutWindowSeconds` that lock it for `lockoutSeconds`; 0 = no lockout. */
  readonly lockoutAttempts: number;
  readonly lockoutWindowSeconds: number;
  readonly lockoutSeconds: number;
  /** Password hashes (scrypt, in libuv's thread pool) computed at once. */
  readonly passwordHashConcurrency: number;
  /** Logins waiting for a hash slot, all clients together; beyond it → 429. */
  readonly passwordHashQueue: number;
}

export interface RateLimitConfig {
  readonly perSecond: number;
  readonly burst: number;
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
    batchChunkRows: integer(env, 'VBAPI_BATCH_CHUNK_ROWS', DEFAULT_BATCH_CHUNK_ROWS, 1, 1_000_000),
    maxBodyBytes: integer(env, 'VBAPI_MAX_BODY_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxTextChars: integer(env, 'VBAPI_MAX_TEXT_CHARS', DEFAULT_MAX_TEXT_CHARS, 1, 10_000_000),
    maxInflightBodyBytes: integer(env, 'VBAPI_MAX_INFLIGHT_BODY_BYTES', defaultInflightBodyBytes(), 1024 * 1024, 64 * 1024 * 1024 * 1024),
    maxJsonDepth: integer(env, 'VBAPI_MAX_JSON_DEPTH', 32, 2, 10_000),
    maxHeaderBytes: integer(env, 'VBAPI_MAX_HEADER_BYTES', 16 * 1024, 1024, 1024 * 1024),
    requestTimeoutMs: integer(env, 'VBAPI_REQUEST_TIMEOUT_MS', 120_000, 1_000, 3_600_000),
    statementTimeoutMs: integer(env, 'VBAPI_STATEMENT_TIMEOUT_MS', 120_000, 0, 3_600_000),
    pgPreparedStatements: oneOf(env, 'VBAPI_PG_PREPARED_STATEMENTS', ['on', 'off'] as const, 'on') === 'on',
    pgliteSharedBuffersMb: integer(env, 'VBAPI_PGLITE_SHARED_BUFFERS_MB', DEFAULT_PGLITE_SHARED_BUFFERS_MB, 1, 1024),
    shutdownTimeoutMs: integer(env, 'VBAPI_SHUTDOWN_TIMEOUT_MS', 30_000, 100, 3_600_000),
    logLevel,
    logFormat: oneOf(env, 'LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto'),
    metricsToken: metricsToken(env.VBAPI_METRICS_TOKEN),
    metricsPort: env.VBAPI_METRICS_PORT ? integer(env, 'VBAPI_METRICS_PORT', 0, 0, 65_535) : undefined,
    jwtSecret: secret(env.VBAPI_JWT_SECRET),
    secretKey: aesKey(env.VBAPI_SECRET_KEY),
    tokenLifetimeSeconds: integer(env, 'VBAPI_TOKEN_TTL_SECONDS', 86_400, 1, 31 * 86_400),
    rateLimit: rateLimit('VBAPI_RATE_LIMIT', env.VBAPI_RATE_LIMIT ?? '25/50'),
    redisUrl: env.REDIS_URL || undefined,
    pgMaxConnections: integer(env, 'VBAPI_PG_MAX_CONNECTIONS', 20, 2, 10_000),
    pgAcquireTimeoutMs: integer(env, 'VBAPI_PG_ACQUIRE_TIMEOUT_MS', 10_000, 100, 600_000),
    tenantIdleSeconds: integer(env, 'VBAPI_TENANT_IDLE_SECONDS', 300, 1, 86_400),
    maxOpenTenants: integer(env, 'VBAPI_MAX_OPEN_TENANTS', 8, 1, 10_000),
    idempotencyTtlSeconds: integer(env, 'VBAPI_IDEMPOTENCY_TTL_SECONDS', 86_400, 1, 31 * 86_400),
    loginRate: rateLimit('VBAPI_LOGIN_RATE', env.VBAPI_LOGIN_RATE || '5/20'),
    loginUserRate: rateLimit('VBAPI_LOGIN_USER_RATE', env.VBAPI_LOGIN_USER_RATE || '1/10'),
    refreshTokenDays: integer(env, 'VBAPI_REFRESH_TOKEN_TTL_DAYS', 30, 1, 365),
    lockoutAttempts: integer(env, 'VBAPI_LOCKOUT_ATTEMPTS', 5, 0, 1000),
    lockoutWindowSeconds: integer(env, 'VBAPI_LOCKOUT_WINDOW_SECONDS', 900, 1, 86_400),
    lockoutSeconds: integer(env, 'VBAPI_LOCKOUT_SECONDS', 900, 1, 86_400),
    // scrypt is CPU-bound: more hashes at once than cores only queue in the thread pool, and libuv's
    // pool has 4 threads by default, so keep at least one free for everything else that uses it.
    passwordHashConcurrency: integer(env, 'VBAPI_PASSWORD_HASH_CONCURRENCY', Math.min(availableParallelism(), 3), 1, 64),
    passwordHashQueue: integer(env, 'VBAPI_PASSWORD_HASH_QUEUE', 64, 1, 100_000),
  };
}

/**
 * A sixteenth of V8's heap limit, at most 256 MiB. At the peak of parsing, a body holds its bytes
 * about four times over (the received chunks, their concatenation, the text, the parsed strings)
 * beside its values, so the budget's worst case stays near a quarter of the heap: the rest is left
 * to the handlers, the stores' caches and the responses. With Node's default heap limit on a 64-bit
 * machine (about 4 GiB), that is 256 MiB: four 64 MiB bodies at once.
 */
function defaultInflightBodyBytes(): number {
  return Math.min(256 * 1024 * 1024, Math.floor(getHeapStatistics().heap_size_limit / 16));
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!allowed.includes(value as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** Long enough not to be guessed: a scrape token guards operational data, not records, but still. */
function metricsToken(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length < 16) throw new ConfigError('VBAPI_METRICS_TOKEN must be at least 16 characters');
  return value;
}

function secret(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length < 32) throw new ConfigError('VBAPI_JWT_SECRET must be at least 32 characters');
  return value;
}

/** 32 bytes, as 64 hex digits or base64 (standard or URL-safe), e.g. `openssl rand -base64 32`. */
function aesKey(value: string | undefined): Buffer | undefined {
  if (!value) return undefined;
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(value) ? Buffer.from(value, 'base64') : null;
  if (key?.length !== 32) throw new ConfigError('VBAPI_SECRET_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
  return key;
}

/** `25/50` = 25 requests/s sustained, bursts of 50; `off` = no limit. */
function rateLimit(name: string, value: string): RateLimitConfig | null {
  if (value === 'off') return null;
  const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value);
  const perSecond = Number(match?.[1]);
  const burst = Number(match?.[2]);
  if (!match || perSecond <= 0 || burst < 1) {
    throw new ConfigError(`${name} must be "<per second>/<burst>" (e.g. 25/50) or "off", got "${value}"`);
  }
  return { perSecond, burst };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}
