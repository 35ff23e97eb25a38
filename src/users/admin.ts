import { newPassword } from '../auth/secrets.js';
import type { Sessions } from '../auth/sessions.js';
import type { OperatorScope, UserDirectory } from './directory.js';

/**
 * Disable, enable and password reset, written once for both callers: the API's admin routes (an
 * administrator's scope: their client, the request's database) and the command line (the
 * operator's scope: every user of a client).
 */
export interface UserAdmin {
  readonly directory: UserDirectory;
  readonly sessions: Pick<Sessions, 'revokeUser'>;
  /** Hashes a password (the API queues it behind its login limits; the command line hashes at once). */
  readonly hash: (password: string) => Promise<string>;
}

/** The user can no longer log in, and every session of theirs ends at once. False: no such user in the scope. */
export async function disableUser(admin: UserAdmin, scope: OperatorScope, userId: string, by: string): Promise<boolean> {
  if (!(await admin.directory.setState(scope, userId, { disabled: true }, by))) return false;
  await admin.sessions.revokeUser(scope.clientId, userId, 'disabled');
  return true;
}

export function enableUser(admin: UserAdmin, scope: OperatorScope, userId: string, by: string): Promise<boolean> {
  return admin.directory.setState(scope, userId, { disabled: false }, by);
}

/**
 * A new random temporary password (returned to be shown once; the user must replace it at the next
 * login); the user's sessions end. Null: no such user in the scope.
 */
export async function resetPassword(admin: UserAdmin, scope: OperatorScope, userId: string, by: string): Promise<string | null> {
  if (!(await admin.directory.visible(scope, userId))) return null; // no hash spent on nobody
  const password = newPassword();
  const passwordHash = await admin.hash(password);
  if (!(await admin.directory.setState(scope, userId, { passwordHash, temporary: true }, by))) return null;
  await admin.sessions.revokeUser(scope.clientId, userId, 'password reset');
  return password;
}
