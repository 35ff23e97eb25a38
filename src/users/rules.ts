import { passwordProblem } from '../auth/password-policy.js';
import type { FieldError, Row } from '../derive/validate.js';
import type { ClientRecord } from '../entities/index.js';
import { USER_ID, type user } from '../entities/user.js';

/**
 * Records per `PUT /users-batch` (or VBAPI_MAX_BATCH_RECORDS, when lower). Each record may carry a
 * password, hashed with scrypt (about 70 ms) one after another through the login hash queue: a
 * 10,000-record batch would hold a hash slot for over ten minutes. 1,000 bounds it to about a
 * minute; a larger set of users goes in several requests.
 */
export const MAX_USER_BATCH_RECORDS = 1_000;

/** What a new user needs beyond the record's own rules: a login name of the vendor's form and a password that passes the policy. */
export function newUserProblems(row: Row & ClientRecord<typeof user>): FieldError[] {
  const errors: FieldError[] = [];
  if (!USER_ID.test(row.user_ID)) errors.push({ field: 'user_ID', message: 'must be 1-16 letters, digits, "_", ".", "@" or "-", starting with a letter or digit' });
  const weak = passwordProblem(row.user_ID, row.password);
  if (weak) errors.push({ field: 'password', message: weak === 'is required' ? 'is required for a new user' : weak });
  return errors;
}

