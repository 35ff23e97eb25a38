import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, badRequest } from '../http/errors.js';
import type { Database, Queryable } from '../store/database.js';
import { HEADER } from '../http/headers.js';

/**
 * `Idempotency-Key` on batch requests (IETF httpapi draft "The Idempotency-Key HTTP Header Field").
 *
 * - The answer is stored in the tenant database in the same transaction as the batch's writes, so
 *   a crash leaves both or neither: a retry either replays the answer or runs the batch anew.
 * - Scope: the tenant database (the table lives in it) and the API key's client.
 * - Fingerprint: SHA-256 of the endpoint, the options that change the answer, and the parsed body
 *   re-serialised (`JSON.stringify`): whitespace does not matter, values and key order do.
 * - In flight: an in-process set answers 409 at once; across server instances on PostgreSQL a
 *   transaction-scoped advisory lock on the scope does (`pg_try_advisory_xact_lock`), then the
 *   stored row is read again under that lock.
 */
export const IDEMPOTENCY_HEADER = HEADER.idempotencyKey;
export const REPLAYED_HEADER = HEADER.idempotentReplayed;
const MAX_KEY_LENGTH = 255;
/** Expired rows are deleted at most this often per tenant database (best effort, outside requests' transactions). */
const PURGE_EVERY_MS = 60_000;

export interface IdempotencyScope {
  readonly database: string;
  readonly clientId: string;
  readonly key: string;
  readonly fingerprint: string;
}

/** An answer as stored and replayed: status, the headers it set, and the body's exact text. */
export interface StoredAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Thrown inside the batch transaction when another request already answered this key. */
export class AlreadyAnswered extends Error {
  constructor(readonly fingerprint: string, readonly answer: StoredAnswer) {
    super('already answered');
  }
}

const inFlight = new Set<string>();
const lastPurge = new WeakMap<Database, number>();

/** The key from the header: absent → null; empty, too long, or not visible ASCII → 400. */
export function idempotencyKey(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  if (Array.isArray(value)) throw badRequest('Send one Idempotency-Key header');
  if (value.length === 0 || value.length > MAX_KEY_LENGTH) throw badRequest(`Idempotency-Key must be 1-${MAX_KEY_LENGTH} characters`);
  if (!/^[\x20-\x7e]+$/.test(value)) throw badRequest('Idempotency-Key must be visible ASCII characters');
  return value;
}

export function fingerprint(endpoint: string, options: Record<string, boolean>, body: unknown): string {
  return createHash('sha256').update(JSON.stringify([endpoint, options, body])).digest('hex');
}

const scopeId = (scope: IdempotencyScope) => `${scope.database}\u0000${scope.clientId}\u0000${scope.key}`;

const conflict = () =>
  new ApiError(409, 'A request with this Idempotency-Key is still being processed; retry once it has been answered', undefined, {
    [HEADER.retryAfter]: '1',
  });

/** The stored answer for `scope`, or the error a mismatched body earns. */
export function replayOrRefuse(scope: IdempotencyScope, stored: AlreadyAnswered): StoredAnswer {
  if (stored.fingerprint !== scope.fingerprint) {
    throw new ApiError(422, 'This Idempotency-Key was already used with a different request (body, endpoint or options)');
  }
  return stored.answer;
}

const SELECT = `SELECT fingerprint, status, headers, body FROM idempotency_keys
  WHERE client_id = $1 AND idempotency_key = $2 AND expires_at > now()`;

interface Row {
  fingerprint: string;
  status: number;
  headers: string;
  body: string;
}

const answered = (row: Row) =>
  new AlreadyAnswered(row.fingerprint, { status: row.status, headers: JSON.parse(row.headers) as Record<string, string>, body: row.body });

/** The answer already stored for this key, if any (read without locks: the common replay path). */
export async function storedAnswer(db: Queryable, scope: IdempotencyScope): Promise<AlreadyAnswered | null> {
  const [row] = await db.query<Row>(SELECT, [scope.clientId, scope.key]);
  return row ? answered(row) : null;
}

/**
 * Runs `work` while this process holds the key; a second request with the key meanwhile is a 409.
 * Also purges expired keys now and then.
 */
export async function holding<T>(db: Database, scope: IdempotencyScope, log: FastifyBaseLogger, work: () => Promise<T>): Promise<T> {
  const id = scopeId(scope);
  if (inFlight.has(id)) throw conflict();
  inFlight.add(id);
  try {
    return await work();
  } finally {
    inFlight.delete(id);
    purgeExpired(db, log);
  }
}

/** The text whose 64-bit hash is the advisory lock of a key (a hash collision costs at worst a spurious 409). */
export const advisoryLockName = (clientId: string, key: string) => JSON.stringify(['idempotency', clientId, key]);

/** Inside the batch transaction, before any write: the cross-instance lock, then the row read again under it. */
export async function claim(tx: Queryable, scope: IdempotencyScope): Promise<void> {
  const [lock] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked', [
    advisoryLockName(scope.clientId, scope.key),
  ]);
  if (!lock?.locked) throw conflict();
  const [row] = await tx.query<Row>(SELECT, [scope.clientId, scope.key]);
  if (row) throw answered(row);
}

/** Inside the batch transaction, after its writes: the answer, committed with them. An expired row is replaced. */
export async function store(tx: Queryable, scope: IdempotencyScope, answer: StoredAnswer, ttlSeconds: number): Promise<void> {
  await tx.query(
    `INSERT INTO idempotency_keys (client_id, idempotency_key, fingerprint, status, headers, body, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
     ON CONFLICT (client_id, idempotency_key) DO UPDATE SET
       fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status, headers = EXCLUDED.headers, body = EXCLUDED.body,
       created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
     WHERE idempotency_keys.expires_at <= now()`,
    [scope.clientId, scope.key, scope.fingerprint, answer.status, JSON.stringify(answer.headers), answer.body, ttlSeconds],
  );
}

function purgeExpired(db: Database, log: FastifyBaseLogger): void {
  const now = Date.now();
  if (now - (lastPurge.get(db) ?? 0) < PURGE_EVERY_MS) return;
  lastPurge.set(db, now);
  db.query('DELETE FROM idempotency_keys WHERE expires_at <= now()').catch((error: unknown) =>
    log.warn({ err: error }, 'purging expired idempotency keys failed'),
  );
}
