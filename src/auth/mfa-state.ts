import type { Database } from '../store/database.js';
import { SecretBox } from './mfa-secrets.js';
import { matchingStep, newTotpSecret } from './totp.js';

/**
 * Whether this user must answer a SOFTWARE_TOKEN_MFA challenge after their password. Login and
 * change-temporary-password ask this one function: a verified device that is enabled.
 */
export async function mfaRequired(registry: Database, clientId: string, username: string): Promise<boolean> {
  const rows = await registry.query(
    'SELECT 1 FROM user_mfa WHERE client_id = $1 AND username = $2 AND enabled AND secret IS NOT NULL',
    [clientId, username],
  );
  return rows.length > 0;
}

/** Wrong codes a pending setup tolerates before it is thrown away (a new /mfa-setup starts over). */
const SETUP_TRIES = 5;

export type SetupOutcome = { ok: true } | { ok: false; reason: 'no-setup' | 'wrong'; triesLeft: number };
export type CodeOutcome = 'ok' | 'wrong' | 'replayed' | 'no-device';

/**
 * The users' TOTP devices (`user_mfa`, registry migration 0004). Secrets are sealed by SecretBox
 * before they reach SQL and opened only to check a code.
 *
 * **Replay**: each accepted code's time step is remembered per user; a later code must belong to a
 * later step (RFC 6238 section 5.2). So a code works once, and a code older than the last accepted
 * one is refused too, even within the ±1 step window: one MFA login per user per 30 seconds.
 */
export class MfaDevices {
  private constructor(
    private readonly registry: Database,
    private readonly box: SecretBox,
  ) {}

  static async load(registry: Database, configuredKey: Buffer | undefined): Promise<MfaDevices> {
    return new MfaDevices(registry, await SecretBox.load(registry, configuredKey));
  }

  /**
   * /mfa-setup: a new pending secret (returned in clear, this once). A device already verified
   * keeps working until the new one is verified.
   */
  async startSetup(clientId: string, username: string): Promise<string> {
    const secret = newTotpSecret();
    await this.registry.query(
      `INSERT INTO user_mfa (client_id, username, pending_secret) VALUES ($1, $2, $3)
       ON CONFLICT (client_id, username) DO UPDATE SET pending_secret = EXCLUDED.pending_secret, pending_tries = 0, updated_at = now()`,
      [clientId, username, this.box.seal(secret, [clientId, username])],
    );
    return secret;
  }

  /** /mfa-verify-setup: a right code makes the pending secret the user's device, enabled, under `deviceName`. */
  async verifySetup(clientId: string, username: string, code: string, deviceName: string, now = Date.now()): Promise<SetupOutcome> {
    const [row] = await this.registry.query<{ pending_secret: string }>(
      'SELECT pending_secret FROM user_mfa WHERE client_id = $1 AND username = $2 AND pending_secret IS NOT NULL',
      [clientId, username],
    );
    if (!row) return { ok: false, reason: 'no-setup', triesLeft: 0 };
    const step = matchingStep(this.box.open(row.pending_secret, [clientId, username]), code, now);
    if (step === null) {
      const [counted] = await this.registry.query<{ pending_tries: number }>(
        `UPDATE user_mfa SET pending_tries = pending_tries + 1,
           pending_secret = CASE WHEN pending_tries + 1 >= $4 THEN NULL ELSE pending_secret END, updated_at = now()
         WHERE client_id = $1 AND username = $2 AND pending_secret = $3 RETURNING pending_tries`,
        [clientId, username, row.pending_secret, SETUP_TRIES],
      );
      return { ok: false, reason: 'wrong', triesLeft: Math.max(0, SETUP_TRIES - (counted?.pending_tries ?? SETUP_TRIES)) };
    }
    // Only the secret that was checked is promoted: a setup restarted meanwhile wins.
    const promoted = await this.registry.query(
      `UPDATE user_mfa SET secret = pending_secret, pending_secret = NULL, pending_tries = 0, device_name = $4,
         enabled = true, last_step = $5, updated_at = now()
       WHERE client_id = $1 AND username = $2 AND pending_secret = $3 RETURNING 1`,
      [clientId, username, row.pending_secret, deviceName, step],
    );
    return promoted.length ? { ok: true } : { ok: false, reason: 'no-setup', triesLeft: 0 };
  }

  /** A login's code (mfa-submit-code) against the user's enabled device; an accepted code's step is used up. */
  async checkCode(clientId: string, username: string, code: string, now = Date.now()): Promise<CodeOutcome> {
    const [row] = await this.registry.query<{ secret: string }>(
      `SELECT m.secret FROM user_mfa m JOIN users u ON u.client_id = m.client_id AND u.username = m.username
       WHERE m.client_id = $1 AND m.username = $2 AND m.enabled AND m.secret IS NOT NULL AND NOT u.disabled`,
      [clientId, username],
    );
    if (!row) return 'no-device';
    const step = matchingStep(this.box.open(row.secret, [clientId, username]), code, now);
    if (step === null) return 'wrong';
    // One statement decides between two requests presenting the same code at once.
    const fresh = await this.registry.query(
      `UPDATE user_mfa SET last_step = $4 WHERE client_id = $1 AND username = $2 AND secret = $3
         AND (last_step IS NULL OR last_step < $4) RETURNING 1`,
      [clientId, username, row.secret, step],
    );
    return fresh.length ? 'ok' : 'replayed';
  }

  /** The caller's `mfA_Enabled`. */
  async enabled(clientId: string, username: string): Promise<boolean> {
    return mfaRequired(this.registry, clientId, username);
  }

  /** /mfa-enable: false when the user has no verified device (nothing to enable). */
  async enable(clientId: string, username: string): Promise<boolean> {
    const rows = await this.registry.query(
      'UPDATE user_mfa SET enabled = true, updated_at = now() WHERE client_id = $1 AND username = $2 AND secret IS NOT NULL RETURNING 1',
      [clientId, username],
    );
    return rows.length > 0;
  }

  /** /mfa-disable: MFA off and the device forgotten (a new setup is needed to turn it on again). */
  async disable(clientId: string, username: string): Promise<void> {
    await forgetMfaDevice(this.registry, clientId, username);
  }
}

/**
 * MFA off and the user's device (and any pending setup) forgotten. Needs no secret key, so the
 * command line's `user mfa-disable` can do it for an administrator who lost their device.
 * Returns whether the user had a device or a pending setup.
 */
export async function forgetMfaDevice(registry: Database, clientId: string, username: string): Promise<boolean> {
  const rows = await registry.query('DELETE FROM user_mfa WHERE client_id = $1 AND username = $2 RETURNING 1', [clientId, username]);
  return rows.length > 0;
}
