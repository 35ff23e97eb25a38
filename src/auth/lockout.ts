import type { Database } from '../store/database.js';

export interface LockoutRules {
  readonly attempts: number;
  readonly windowSeconds: number;
  readonly lockSeconds: number;
}

/**
 * Contract 6.3's lockout: `attempts` failed logins of one username within `windowSeconds` lock it
 * for `lockSeconds`. Failures are counted per client and username whether the user exists or not,
 * so an unknown username locks the same way and costs the same (no user enumeration through the
 * lockout). A locked login is refused before any password hash. A success clears the count.
 * `attempts` 0 turns the lockout off.
 */
export class Lockout {
  constructor(
    private readonly registry: Database,
    private readonly rules: LockoutRules,
  ) {}

  async isLocked(clientId: string, username: string): Promise<boolean> {
    if (this.rules.attempts === 0) return false;
    const rows = await this.registry.query(
      'SELECT 1 FROM login_failures WHERE client_id = $1 AND username = $2 AND locked_until > now()',
      [clientId, username],
    );
    return rows.length > 0;
  }

  async recordFailure(clientId: string, username: string): Promise<void> {
    const { attempts, windowSeconds, lockSeconds } = this.rules;
    if (attempts === 0) return; // lockout off
    // One statement: a count in a window that restarts when it has passed; reaching `attempts`
    // sets the lock and starts a fresh count, so the lock's end gives `attempts` new tries.
    await this.registry.query(
      `INSERT INTO login_failures AS f (client_id, username, failures, window_start, locked_until)
       VALUES ($1, $2, 1, now(), NULL)
       ON CONFLICT (client_id, username) DO UPDATE SET
         failures = CASE WHEN f.window_start <= now() - $3 * interval '1 second' THEN 1 ELSE f.failures + 1 END,
         window_start = CASE WHEN f.window_start <= now() - $3 * interval '1 second' THEN now() ELSE f.window_start END`,
      [clientId, username, windowSeconds],
    );
    await this.registry.query(
      `UPDATE login_failures SET locked_until = now() + $4 * interval '1 second', failures = 0, window_start = now()
       WHERE client_id = $1 AND username = $2 AND failures >= $3`,
      [clientId, username, attempts, lockSeconds],
    );
    // Rows of garbage usernames must not pile up: now and then, forget counts nobody needs any more.
    if (Math.random() < 0.02) {
      await this.registry.query(
        `DELETE FROM login_failures WHERE window_start <= now() - $1 * interval '1 second' AND (locked_until IS NULL OR locked_until <= now())`,
        [windowSeconds],
      );
    }
  }

  async clear(clientId: string, username: string): Promise<void> {
    if (this.rules.attempts === 0) return;
    await this.registry.query('DELETE FROM login_failures WHERE client_id = $1 AND username = $2', [clientId, username]);
  }
}
