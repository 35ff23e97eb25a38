import type { Database } from '../store/database.js';

/**
 * Whether this user must answer a SOFTWARE_TOKEN_MFA challenge after their password. Login and
 * change-temporary-password ask this one function. A stub until MFA lands (issue 13's "mfa" part
 * replaces this file: it reads `user_mfa.enabled`).
 */
export async function mfaRequired(_registry: Database, _clientId: string, _username: string): Promise<boolean> {
  return false;
}
