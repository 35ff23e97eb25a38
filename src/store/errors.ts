/**
 * Database errors mapped by SQLSTATE code (never by message text), in one place.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
/** A store operation refused for a reason the user can act on (shown as one line by the CLI). */
export class StoreError extends Error {}

export type StoreFault = 'retry' | 'unavailable' | 'reference' | 'other';

const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const UNAVAILABLE_CLASSES = ['08', '53', '57P']; // connection, insufficient resources, operator intervention
const STATEMENT_TIMEOUT = '57014'; // query_canceled: statement_timeout (VBAPI_STATEMENT_TIMEOUT_MS) fired
const BROKEN_CLASSES = ['08', '57P']; // connection exceptions, server shutting down
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * A store fault raised by work whose transaction rolled back as a whole: nothing it wrote was
 * applied (a batch). It classifies as its cause does; the app says "nothing was applied" for it.
 */
export class RolledBack extends Error {
  constructor(override readonly cause: unknown) {
    super('the transaction rolled back; nothing was applied', { cause });
  }
}

export function classify(error: unknown): StoreFault {
  if (error instanceof RolledBack) return classify(error.cause);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'other';
  if (RETRYABLE.has(code)) return 'retry';
  if (code === '23503' || code === '23001') return 'reference'; // foreign_key_violation, restrict_violation
  if (code === STATEMENT_TIMEOUT) return 'unavailable';
  if (NETWORK_CODES.has(code) || UNAVAILABLE_CLASSES.some((prefix) => code.startsWith(prefix))) return 'unavailable';
  return 'other';
}

/**
 * Whether a connection that saw this error can no longer be trusted: the network or the server
 * dropped it. Anything else (a constraint, a timeout, a 4xx thrown by our own code) leaves the
 * connection healthy once its transaction is rolled back, so it goes back to the pool.
 */
export function isBrokenConnection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (NETWORK_CODES.has(code) || BROKEN_CLASSES.some((prefix) => code.startsWith(prefix)));
}

/** Runs a transaction again (a few times, with jitter) when the database asks for a retry. */
export async function withRetry<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || classify(error) !== 'retry') throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
