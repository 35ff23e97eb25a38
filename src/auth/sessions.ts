import { createHash, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../store/database.js';
import { TtlCache } from './cache.js';

/**
 * Server-side login sessions (contract 6.3). A session holds the hash of its current refresh
 * token; every id/access token carries the session's id (`sid`), and the bearer check asks
 * `isActive`, so logout, kick, disable, reset, delete and refresh-token reuse end a session's
 * tokens at once.
 *
 * Across instances: an instance remembers a session's state for at most REVOCATION_CACHE_MS, so a
 * revocation made by another instance sharing the registry is seen within that time (a revocation
 * made here clears the entry at once). One indexed lookup per session per second per instance is
 * the whole cost, and it needs no pub/sub channel (PGlite has none across processes anyway).
 */
const REVOCATION_CACHE_MS = 500;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const newRefreshToken = () => `vbr_${randomBytes(32).toString('base64url')}`;

export interface SessionOwner {
  readonly clientId: string;
  readonly username: string;
  readonly database: string;
}

export type Refreshed =
  | { readonly ok: true; readonly sessionId: string; readonly refreshToken: string; readonly owner: SessionOwner }
  | { readonly ok: false; readonly reused: boolean };

/** Per registry, so a revocation made by another `Sessions` of this process (the command line served by it) clears it too. */
const activeCaches = new WeakMap<Database, TtlCache<boolean>>();

export class Sessions {
  private readonly active: TtlCache<boolean>;

  constructor(
    private readonly registry: Database,
    private readonly lifetimeDays: number,
  ) {
    const cache = activeCaches.get(registry) ?? new TtlCache<boolean>(REVOCATION_CACHE_MS);
    activeCaches.set(registry, cache);
    this.active = cache;
  }

  /** A new session and its first refresh token (returned once; only its hash is kept). */
  async create(owner: SessionOwner): Promise<{ sessionId: string; refreshToken: string }> {
    const sessionId = randomBytes(16).toString('base64url');
    const refreshToken = newRefreshToken();
    await this.registry.query(
      `INSERT INTO sessions (id, client_id, username, database, refresh_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 day')`,
      [sessionId, owner.clientId, owner.username, owner.database, hash(refreshToken), this.lifetimeDays],
    );
    // Known to stand: the first call with the new tokens costs no registry query (it would queue
    // behind a login flood's queries on the embedded registry).
    this.active.set(sessionId, true);
    return { sessionId, refreshToken };
  }

  /** Whether the session still stands (not revoked, user not deleted). Remembered for at most REVOCATION_CACHE_MS. */
  async isActive(sessionId: string): Promise<boolean> {
    const known = this.active.get(sessionId);
    if (known !== undefined) return known;
    const rows = await this.registry.query('SELECT 1 FROM sessions WHERE id = $1 AND revoked_at IS NULL', [sessionId]);
    this.active.set(sessionId, rows.length > 0);
    return rows.length > 0;
  }

  /**
   * Rotation (OAuth 2.0 security BCP): the presented refresh token is exchanged for a new one, once.
   * `check` sees the session before anything changes and may refuse it (wrong expired id token,
   * wrong database). A token that was already exchanged is reuse: its whole session ends.
   */
  async rotate(clientId: string, refreshToken: string, check: (sessionId: string, owner: SessionOwner) => boolean): Promise<Refreshed> {
    const presented = hash(refreshToken);
    const [session] = await this.registry.query<{ id: string } & SessionOwner>(
      `SELECT id, client_id AS "clientId", username, database FROM sessions
       WHERE refresh_hash = $1 AND client_id = $2 AND revoked_at IS NULL AND expires_at > now()`,
      [presented, clientId],
    );
    if (!session) {
      const [used] = await this.registry.query<{ session_id: string }>(
        `SELECT u.session_id FROM used_refresh_tokens u JOIN sessions s ON s.id = u.session_id WHERE u.hash = $1 AND s.client_id = $2`,
        [presented, clientId],
      );
      if (!used) return { ok: false, reused: false };
      await this.revoke(used.session_id, 'refresh token reuse');
      return { ok: false, reused: true };
    }
    const owner = { clientId: session.clientId, username: session.username, database: session.database };
    if (!check(session.id, owner)) return { ok: false, reused: false };
    const next = newRefreshToken();
    const swapped = await this.registry.transaction(async (tx) => {
      // Compare-and-swap on the hash: of two concurrent uses of one token, exactly one wins.
      const rows = await tx.query(
        'UPDATE sessions SET refresh_hash = $1, refreshed_at = now() WHERE id = $2 AND refresh_hash = $3 AND revoked_at IS NULL RETURNING id',
        [hash(next), session.id, presented],
      );
      if (rows.length === 0) return false;
      await tx.query('INSERT INTO used_refresh_tokens (hash, session_id) VALUES ($1, $2)', [presented, session.id]);
      return true;
    });
    if (!swapped) {
      await this.revoke(session.id, 'refresh token reuse');
      return { ok: false, reused: true };
    }
    return { ok: true, sessionId: session.id, refreshToken: next, owner };
  }

  async revoke(sessionId: string, reason: string, db: Queryable = this.registry): Promise<void> {
    await db.query('UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL', [sessionId, reason]);
    this.active.clear();
  }

  /** Forgets what this process remembers of sessions: after they were revoked by another statement (`Store.dropDatabase`). */
  forgetStates(): void {
    this.active.clear();
  }

  /** Ends every session of a user (disable, password reset, delete). */
  async revokeUser(clientId: string, username: string, reason: string, db: Queryable = this.registry): Promise<void> {
    await db.query(
      'UPDATE sessions SET revoked_at = now(), revoked_reason = $3 WHERE client_id = $1 AND username = $2 AND revoked_at IS NULL',
      [clientId, username, reason],
    );
    this.active.clear();
  }

  /** `POST /kick`: ends the user's longest-running session other than `current`; false when there is none. */
  async kickOldestOther(clientId: string, username: string, current: string): Promise<boolean> {
    const [oldest] = await this.registry.query<{ id: string }>(
      `SELECT id FROM sessions WHERE client_id = $1 AND username = $2 AND id <> $3 AND revoked_at IS NULL AND expires_at > now()
       ORDER BY created_at, id LIMIT 1`,
      [clientId, username, current],
    );
    if (!oldest) return false;
    await this.revoke(oldest.id, 'kicked');
    return true;
  }
}
